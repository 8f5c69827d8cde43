// The standalone build, for a page without a bundler or an import map: the
// player and the Firebase SDK in one file. The page initialises its app and
// signs in with the functions re-exported here, so page and player still share
// one SDK (a second copy would not see the page's app or its signed-in user).
export { mountCutscenePlayer } from "./player.js";
export { initializeApp, getApp, deleteApp } from "firebase/app";
export {
  getAuth, connectAuthEmulator, onAuthStateChanged, signInWithCustomToken, signOut,
} from "firebase/auth";
export { getFirestore, connectFirestoreEmulator } from "firebase/firestore";
