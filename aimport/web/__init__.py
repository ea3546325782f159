"""The jobs view: a read-only page at ``/`` of ``--http`` with the JSON behind it and live updates.

``routes`` (the URLs), ``auth`` (who may read), ``jobsdata`` (what is shown), ``heldfiles`` (files held for the
office-hours window), ``importlog`` (one import's .log and rejected rows), ``events`` (server-sent events),
``httpio`` (requests and answers), ``params`` (each path's query parameters, the one place they are read),
``static/`` (the page, its script and style: served by aimport itself).
"""
