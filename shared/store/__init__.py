"""Store: the only code that talks to Firestore, Cloud Storage, Pub/Sub and Vertex.

The ledger and the daily cap, asset and campaign documents, events, objects,
publishing, start pacing, and the image and video model adapters."""
