"""The local stack's IAM: every Storage and Pub/Sub (and Firestore) call a
function makes is checked against what terraform/ grants its service account.

`install(identity)` puts a wrapper on shared.store.connections' clients; each
wrapped object forwards to the real one and, for the public methods the
product calls, first asks the identity's Policy (infra/iam/policy.py) for the
permission Google checks on that call. A refusal raises PermissionDenied (a
publish returns a future failed with it, as the Pub/Sub client reports one).

Permissions per call, from Google's pages:
- Cloud Storage: https://cloud.google.com/storage/docs/access-control/iam-json
  (JSON API method -> permission): objects.get and media download ->
  storage.objects.get; objects.insert -> storage.objects.create, plus
  storage.objects.delete when it overwrites an object; objects.rewrite/copy ->
  storage.objects.get on the source, .create (and .delete to overwrite) on the
  destination; objects.patch/update -> storage.objects.update; objects.delete
  -> storage.objects.delete; objects.list -> storage.objects.list on the bucket.
- Pub/Sub: https://cloud.google.com/pubsub/docs/access-control (Publish ->
  pubsub.topics.publish on the topic).
- Firestore: https://cloud.google.com/firestore/docs/security/iam (required
  permissions per method: GetDocument/BatchGetDocuments -> datastore.entities.get;
  RunQuery/RunAggregationQuery/Listen -> datastore.entities.list (and .get
  for the documents returned); Commit -> datastore.entities.create for a
  create, .update for an update, both for a set without precondition,
  .delete for a delete).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from infra.iam.policy import Policy, for_identity

# (permission, resource) pairs a call needs, from its target and arguments.
Needs = list[tuple[str, str]]
Rule = Callable[["Guard", Any, tuple[Any, ...], dict[str, Any]], Needs]

IDENTITY_ENV = "MEDIA_LOCAL_IDENTITY"


class Guarded:
    """Forwards to the real object, checking the calls its rules name."""

    __slots__ = ("_target", "_guard")

    def __init__(self, target: Any, guard: Guard) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_guard", guard)

    def __getattr__(self, name: str) -> Any:
        target = object.__getattribute__(self, "_target")
        guard: Guard = object.__getattribute__(self, "_guard")
        value = getattr(target, name)
        if not callable(value) or isinstance(value, type):
            return guard.wrap(value)
        rule = guard.rule(target, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            args = tuple(unwrap(a) for a in args)
            kwargs = {k: unwrap(v) for k, v in kwargs.items()}
            if rule is not None:
                refused = guard.refused(rule(guard, target, args, kwargs), name)
                if refused is not None:
                    return guard.failed(target, name, refused)
            return guard.wrap(value(*args, **kwargs))

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_target"), name, unwrap(value))

    def __iter__(self) -> Iterator[Any]:
        guard: Guard = object.__getattribute__(self, "_guard")
        return (guard.wrap(item) for item in object.__getattribute__(self, "_target"))

    def __eq__(self, other: object) -> bool:
        return bool(object.__getattribute__(self, "_target") == unwrap(other))

    def __hash__(self) -> int:
        return hash(object.__getattribute__(self, "_target"))

    def __repr__(self) -> str:
        return f"Guarded({object.__getattribute__(self, '_target')!r})"


def unwrap(value: Any) -> Any:
    if isinstance(value, Guarded):
        return object.__getattribute__(value, "_target")
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if isinstance(value, tuple):
        return tuple(unwrap(v) for v in value)
    return value


class Guard:
    def __init__(self, policy: Policy, rules: dict[type, dict[str, Rule]]) -> None:
        self.policy = policy
        self.rules = rules

    def rule(self, target: Any, name: str) -> Rule | None:
        for cls in type(target).__mro__:
            table = self.rules.get(cls)
            if table and name in table:
                return table[name]
        return None

    def guarded_type(self, value: Any) -> bool:
        return any(cls in self.rules for cls in type(value).__mro__)

    def wrap(self, value: Any) -> Any:
        if isinstance(value, Guarded) or value is None:
            return value
        if self.guarded_type(value):
            return Guarded(value, self)
        if isinstance(value, list):
            return [self.wrap(v) for v in value]
        if _is_iterator(value):
            return (self.wrap(v) for v in value)
        return value

    def refused(self, needs: Needs, call: str) -> Exception | None:
        from google.api_core.exceptions import PermissionDenied

        for permission, resource in needs:
            try:
                self.policy.check(permission, resource, call)
            except PermissionDenied as exc:
                return exc
        return None

    def failed(self, target: Any, name: str, exc: Exception) -> Any:
        """A publish reports a refusal through its future; everything else raises."""
        import google.cloud.pubsub_v1 as pubsub_v1

        if name == "publish" and isinstance(target, pubsub_v1.PublisherClient):
            from google.cloud.pubsub_v1.publisher.futures import Future

            future = Future()
            future.set_exception(exc)
            return future
        raise exc


def _is_iterator(value: Any) -> bool:
    # Iterators the libraries return lazily (list_blobs' HTTPIterator, a
    # query's stream): their items are wrapped as they come.
    return isinstance(value, Iterator) or type(value).__name__ in {"HTTPIterator", "Page"}


# ---- Cloud Storage -------------------------------------------------------------


def _blob_object(guard: Guard, blob: Any) -> str:
    return guard.policy.object(blob.bucket.name, blob.name)


def _bucket_name(value: Any) -> str:
    return value if isinstance(value, str) else str(value.name)


def _write(guard: Guard, blob: Any, kwargs: dict[str, Any]) -> Needs:
    """An insert; overwriting an existing object also needs delete (the
    precondition if_generation_match=0 means it never overwrites)."""
    resource = _blob_object(guard, blob)
    needs = [("storage.objects.create", resource)]
    if kwargs.get("if_generation_match") != 0 and blob.exists():
        needs.append(("storage.objects.delete", resource))
    return needs


def _copy(guard: Guard, bucket: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Needs:
    source = args[0] if args else kwargs["blob"]
    destination = args[1] if len(args) > 1 else kwargs["destination_bucket"]
    new_name = args[2] if len(args) > 2 else kwargs.get("new_name") or source.name
    target = destination.blob(new_name)
    needs = [("storage.objects.get", _blob_object(guard, source))]
    return needs + _write(guard, target, {})


def storage_rules() -> dict[type, dict[str, Rule]]:
    import google.cloud.storage as storage

    def on_blob(permission: str) -> Rule:
        return lambda guard, blob, args, kwargs: [(permission, _blob_object(guard, blob))]

    def named(permission: str) -> Rule:
        return lambda guard, bucket, args, kwargs: [
            (permission, guard.policy.object(bucket.name, args[0] if args else kwargs["blob_name"]))
        ]

    def listing(guard: Guard, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Needs:
        if isinstance(target, storage.Bucket):
            bucket = target.name
        else:
            bucket = _bucket_name(args[0] if args else kwargs["bucket_or_name"])
        return [("storage.objects.list", guard.policy.bucket_resource(bucket))]

    def signing(guard: Guard, blob: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Needs:
        """V4 signing: the cloud signs through IAM signBlob as
        service_account_email (the emulators: a local key standing for
        media_api's account, infra/iam/policy.local_accounts), and the URL
        then acts with the signer's permissions: it must read the object."""
        email = kwargs.get("service_account_email") or getattr(
            kwargs.get("credentials"), "service_account_email", None
        )
        return [
            ("iam.serviceAccounts.signBlob", guard.policy.account(str(email))),
            ("storage.objects.get", _blob_object(guard, blob)),
        ]

    get = on_blob("storage.objects.get")
    return {
        storage.Client: {"list_blobs": listing},
        storage.Bucket: {
            "get_blob": named("storage.objects.get"),
            "delete_blob": named("storage.objects.delete"),
            "list_blobs": listing,
            "copy_blob": _copy,
        },
        storage.Blob: {
            "upload_from_string": lambda g, b, a, k: _write(g, b, k),
            "upload_from_file": lambda g, b, a, k: _write(g, b, k),
            "upload_from_filename": lambda g, b, a, k: _write(g, b, k),
            "download_as_bytes": get,
            "download_as_string": get,
            "download_as_text": get,
            "download_to_file": get,
            "download_to_filename": get,
            "exists": get,
            "reload": get,
            "delete": on_blob("storage.objects.delete"),
            "patch": on_blob("storage.objects.update"),
            "update": on_blob("storage.objects.update"),
            "generate_signed_url": signing,
        },
    }


# ---- Pub/Sub -----------------------------------------------------------------------


def publisher_rules() -> dict[type, dict[str, Rule]]:
    import google.cloud.pubsub_v1 as pubsub_v1

    def publish(guard: Guard, client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Needs:
        topic = args[0] if args else kwargs["topic"]
        return [("pubsub.topics.publish", guard.policy.topic(str(topic)))]

    return {pubsub_v1.PublisherClient: {"publish": publish}}


# ---- Firestore ---------------------------------------------------------------------

READ = ("datastore.entities.get", "project")
LIST = ("datastore.entities.list", "project")
CREATE = ("datastore.entities.create", "project")
UPDATE = ("datastore.entities.update", "project")
DELETE = ("datastore.entities.delete", "project")


def firestore_rules() -> dict[type, dict[str, Rule]]:
    from google.cloud.firestore_v1 import (
        Client,
        CollectionReference,
        DocumentReference,
        DocumentSnapshot,
        Query,
        Transaction,
        WriteBatch,
    )
    from google.cloud.firestore_v1.aggregation import AggregationQuery

    def needing(*needs: tuple[str, str]) -> Rule:
        return lambda guard, target, args, kwargs: list(needs)

    def transaction_get(
        guard: Guard, txn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Needs:
        target = args[0] if args else kwargs["ref_or_query"]
        return [READ] if isinstance(target, DocumentReference) else [LIST, READ]

    # A write without a precondition (set, with or without merge) creates the
    # document or replaces it: Commit checks both.
    writes = {
        "create": needing(CREATE),
        "set": needing(CREATE, UPDATE),
        "update": needing(UPDATE),
        "delete": needing(DELETE),
    }
    query = {
        "stream": needing(LIST, READ),
        "get": needing(LIST, READ),
        "on_snapshot": needing(LIST, READ),
    }
    return {
        Client: {"get_all": needing(READ), "collections": needing(LIST)},
        DocumentReference: {
            "get": needing(READ),
            "on_snapshot": needing(READ),
            "collections": needing(LIST),
            **writes,
        },
        CollectionReference: {"add": needing(CREATE), "list_documents": needing(LIST), **query},
        Query: query,
        AggregationQuery: {"get": needing(LIST), "stream": needing(LIST)},
        # Its .reference is a DocumentReference like any other.
        DocumentSnapshot: {},
        WriteBatch: dict(writes),
        Transaction: {"get": transaction_get, "get_all": needing(READ), **writes},
    }


# ---- Firebase Auth ---------------------------------------------------------------


class GuardedAuth:
    """firebase_admin.auth, checked. A refusal is raised as firebase-admin
    raises a 403 from Google: PermissionDeniedError for the user lookup,
    TokenSignError for a custom token whose IAM signBlob is refused.

    - verify_id_token(check_revoked=True) looks the user up (accounts:lookup):
      firebaseauth.users.get
      (https://cloud.google.com/iam/docs/roles-permissions/firebaseauth).
    - create_custom_token without a key signs through IAM signBlob as the
      app's serviceAccountId (MEDIA_SIGNING_SA: terraform's player_tokens
      account, which its `environment` output gives AIDM):
      iam.serviceAccounts.signBlob on that account
      (https://firebase.google.com/docs/auth/admin/create-custom-tokens)."""

    def __init__(self, module: Any, policy: Policy) -> None:
        self._module = module
        self._policy = policy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def verify_id_token(self, id_token: Any, *args: Any, **kwargs: Any) -> Any:
        check_revoked = kwargs.get("check_revoked", args[1] if len(args) > 1 else False)
        if check_revoked:
            self._refuse_unless("firebaseauth.users.get", "project", "verify_id_token")
        return self._module.verify_id_token(id_token, *args, **kwargs)

    def create_custom_token(self, uid: Any, *args: Any, **kwargs: Any) -> Any:
        app = kwargs.get("app", args[1] if len(args) > 1 else None)
        options = getattr(app, "options", None)
        signer = options.get("serviceAccountId") if options is not None else None
        account = self._policy.account(signer) if signer else "service_account:player_tokens"
        self._refuse_unless("iam.serviceAccounts.signBlob", account, "create_custom_token")
        return self._module.create_custom_token(uid, *args, **kwargs)

    def _refuse_unless(self, permission: str, resource: str, call: str) -> None:
        from firebase_admin import exceptions
        from google.api_core.exceptions import PermissionDenied

        try:
            self._policy.check(permission, resource, call)
        except PermissionDenied as exc:
            if call == "create_custom_token":
                raise self._module.TokenSignError(str(exc), exc) from exc
            raise exceptions.PermissionDeniedError(str(exc), exc) from exc


# ---- installing it -----------------------------------------------------------------

RULES: dict[str, Callable[[], dict[type, dict[str, Rule]]]] = {
    "storage": storage_rules,
    "publisher": publisher_rules,
    "firestore": firestore_rules,
}


def wrapper(policy: Policy) -> Callable[[str, Any], Any]:
    guards: dict[str, Guard] = {}

    def wrap(kind: str, client: Any) -> Any:
        if kind == "auth":
            return GuardedAuth(client, policy)
        if kind not in RULES:
            return client
        guard = guards.get(kind)
        if guard is None:
            guard = guards[kind] = Guard(policy, RULES[kind]())
        return Guarded(client, guard)

    return wrap


def install(identity: str) -> Policy:
    """Check every client this process builds against the identity's grants."""
    from shared.store import connections

    policy = for_identity(identity)
    connections.set_client_wrapper(wrapper(policy))
    return policy


def install_from_env() -> Policy | None:
    """install(MEDIA_LOCAL_IDENTITY) when it is set; nothing otherwise."""
    identity = os.environ.get(IDENTITY_ENV)
    return install(identity) if identity else None
