"""STIX 2.1 helpers: reading inputs, validation, TLP 2.0 markings, 2.0 upgrade. Pure, no I/O."""
