"""Domain: the rules, with no I/O and no `google.*` imports.

Request and message models, ids and object/document paths, campaign settings
and plans, prices and model locations, the asset's statuses, polling rules."""
