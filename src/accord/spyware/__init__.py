"""Commercial spyware: the vendor registry, the device check for people at risk, and sightings shared
back to the community without exposing the person.

Modules: ``seed`` (registry objects and the shipped indicator files), ``registry`` (the registry as
one viewer sees it), ``correlate`` (indicators correlated by value), ``artefacts`` / ``mvt`` /
``artefact_list`` (device artefacts as detection-engine events), ``check`` (the device check through
``accord.detect``), ``report`` (JSON and HTML), ``share`` (the privacy-preserving sighting),
``mvt_export`` (STIX2 files MVT loads), ``remote`` (indicators from another hub).
"""
