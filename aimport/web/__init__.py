"""The HTTP endpoint of ``--http``: the jobs view (a page at ``/``, its JSON, live updates), its actions, health.

``server`` (the Starlette app, served by Hypercorn in the service's task group), ``guard`` (what every request
meets: methods, malformed requests, security headers), ``request`` and ``answers`` (a request as read, JSON
answers), ``routes`` (the URLs), ``actions`` (release, retry, cancel), ``auth`` (who may read and act),
``jobsdata`` (what is shown), ``heldview`` (files held for the office-hours window), ``runningimports``
(imports in process: rows of about how many, a finish), ``logpages`` (one import's .log and rejected rows),
``events`` (server-sent events),
``params`` (each path's query parameters, the one place they are read),
``static/`` (the page, its script and style: served by aimport itself).
"""
