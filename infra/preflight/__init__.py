"""`cutscenes preflight`: what a deployment needs before traffic, checked
without a paid call (docs/decisions/0024-preflight.md).

Each module holds one area's checks as pure functions over what was observed
(tested without a stack) and the code that observes it, on the local stack
(emulators, terraform/ read as the local stack reads it) or on a real project
(Google's own clients): models.py, iam.py, topology.py (topics,
subscriptions, the bucket's notification), firestore.py (indexes, TTL
policies). run.py runs them all and prints the rows.
"""
