#!/usr/bin/env python3
"""Writes a CloudEvent made by the CloudEvents Python SDK (JSON, structured mode) to stdout,
as a producer using the SDK would hand it to herold."""
import sys
import warnings

warnings.simplefilter("ignore")  # the 1.x names are deprecated in 2.x; still the documented API

try:  # cloudevents 2.x keeps the 1.x API under cloudevents.v1
    from cloudevents.v1.http import CloudEvent, to_structured
except ImportError:
    from cloudevents.http import CloudEvent, to_structured

event = CloudEvent(
    {"type": "laureates.announced", "source": "https://rops.example.org/konkursy", "subject": "przeciw-przemocy"},
    {"contest": "Przeciw przemocy", "edition": "X", "laureates": [
        {"name": "Gmina Rzezawa", "institution": "Gminny Ośrodek Pomocy Społecznej w Rzezawie",
         "award": "wyróżnienie dla gminy", "reason": "wykorzystanie lokalnych zasobów"}]},
)
_, body = to_structured(event)
sys.stdout.buffer.write(body)
