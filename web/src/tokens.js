// Emulator-style ID tokens: unsigned JWTs (alg "none") that the Firestore
// emulator and media_api accept only when they run against the emulators.
// Real deployments pass `getIdToken` (e.g. () => auth.currentUser.getIdToken()).

function b64url(object) {
  const bytes = new TextEncoder().encode(JSON.stringify(object));
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function mockClaims(userId, projectId) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: `https://securetoken.google.com/${projectId}`,
    aud: projectId,
    iat: now,
    exp: now + 3600,
    auth_time: now,
    sub: userId,
    user_id: userId,
    firebase: { sign_in_provider: "custom", identities: {} },
  };
}

export function mockIdToken(userId, projectId) {
  return `${b64url({ alg: "none", type: "JWT" })}.${b64url(mockClaims(userId, projectId))}.`;
}
