"""Domain: the rules, with no I/O and no `google.*` imports.

Request and message models, ids, object and Firestore document paths
(paths.py), campaign settings and plans, prices and model locations, the
asset's status machine as types (status.py) and its first fields
(asset_fields.py), what a valid reference sheet is (references.py), polling
rules."""
