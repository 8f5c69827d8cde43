// The campaign's media, read with the host page's own Firestore (its
// signed-in user is who the security rules see). The session's budget comes
// from media_api's cost route instead: the rules let no client read ledgers.
import {
  collection, limit, onSnapshot, orderBy, query, where,
} from "firebase/firestore";

// The campaign's newest media, live. onChange(docs newest first, changes).
export function listenToMedia(db, campaignId, max, onChange, onError) {
  const media = collection(db, "campaigns", campaignId, "media");
  // The rules let members list only assets an owner has not hidden, and
  // only a query that says so: a hide shows up here as a removal.
  const newest = query(media, where("hidden", "==", false), orderBy("created_at", "desc"),
    limit(max));
  return onSnapshot(newest, (snap) => {
    const docs = snap.docs.map((d) => ({ id: d.id, ...d.data() }));
    const changes = snap.docChanges().map((c) => ({ type: c.type, id: c.doc.id }));
    onChange(docs, changes);
  }, onError);
}

export function millis(value) {
  if (!value) return null;
  if (typeof value.toMillis === "function") return value.toMillis();
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
}
