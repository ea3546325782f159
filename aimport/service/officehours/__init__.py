"""Office hours: the weekly window in which imports are capped and large files wait.

- :mod:`~aimport.service.officehours.schedule`: the ``office_hours`` spec in ``time_zone``, and its clock;
- :mod:`~aimport.service.officehours.limitswitch`: the concurrency limit of the moment, switched at each boundary;
- :mod:`~aimport.service.officehours.holds`: large files held in their drop folder until the window ends or an
  operator releases one;
- :mod:`~aimport.service.officehours.heldlist`: what the service tells other processes about its held files
  (``STATE/held.json``) and the release requests they leave for it (``aimport release``).
"""
