"""The UN GGE 2015 norms as reference data, and incidents assessed against them.

``reference``: the 11 norms of A/70/174 paragraph 13 (a)-(k) shipped with the package.
``assessments``: attributions, responses and norm assessments read from the incident property
extension (on incidents, and on notes about incidents), side by side and never merged, only from what
a viewer can see.
"""
