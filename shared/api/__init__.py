"""media_api: the HTTP surface browsers and AIDM's frontend use (docs/interface.md section 5).

`app.handle` routes a flask Request; `auth` turns a bearer token into a user
id and checks membership; `signing` makes V4 signed URLs; `turn_media` builds
AIDM's per-turn shape; `sse` streams status changes from a Firestore listener.
"""
