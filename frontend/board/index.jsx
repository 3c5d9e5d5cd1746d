// The shared whiteboard: Excalidraw mounted into a [data-board] element, kept in step with the
// server's copy of the scene through one JSON endpoint (data-board-url).
//
//   GET  → {"version": n, "elements": [...], "read_only": bool}
//   POST {"base_version": n, "elements": [changed since the last acknowledged sync]}
//        → 200 {"version": n2, "elements": [what changed on the server since n, and the
//                server's copy of any sent element that lost the merge]}
//        → 400 {"error": "..."}: shown; the changes stay here and go again once edited
//        → 403: the board may have been frozen; a GET says whether it is read-only now
//        → 409, 5xx, network error: the changes stay here and go again with backoff
//
// Both sides merge per element as Excalidraw's own reconcileElements does (newer `version`
// wins, ties go to the lower `versionNonce`); the server's rules are in interviews/board.py.
// Static module, no inline script: the CSP allows only files from our origin.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import {
  CaptureUpdateAction,
  Excalidraw,
  MainMenu,
  WelcomeScreen,
  reconcileElements,
  restoreElements,
} from "@excalidraw/excalidraw";

const DEBOUNCE_MS = 300;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;
// The drawing types the server keeps (interviews/board.py: ALLOWED_TYPES). Images and web embeds
// are never sent: the server would refuse the whole save, and they could not be fixed from here.
const SYNCED_TYPES = new Set([
  "rectangle",
  "ellipse",
  "diamond",
  "arrow",
  "line",
  "freedraw",
  "text",
  "frame",
]);
const UNSYNCED_NOTICE =
  "Images and embedded pages stay on your screen only: the board keeps shapes, arrows, text and drawings.";

const keyOf = (element) => `${element.version}:${element.versionNonce}`;

// True when `remote` beats `local` by Excalidraw's rule, edits in progress aside.
const remoteWins = (local, remote) =>
  remote.version > local.version ||
  (remote.version === local.version && remote.versionNonce < local.versionNonce);

class RetryLater extends Error {}

class BoardSync {
  constructor({ url, csrfToken, readOnly }) {
    this.url = url;
    this.csrfToken = csrfToken;
    this.readOnly = readOnly;
    this.forcedReadOnly = readOnly;
    this.version = 0;
    // id → "version:versionNonce" of the copy the server is known to hold.
    this.acked = new Map();
    this.api = null;
    this.loaded = false;
    this.busy = false;
    this.wantFetch = false;
    this.timer = null;
    this.retryMs = FIRST_RETRY_MS;
    this.rejected = null;
    this.noticedUnsynced = false;
    this.stopped = false;
    this.view = { setStatus() {}, setReadOnly() {} };
    this.initialData = this.load();
  }

  connect(view) {
    this.view = view;
    view.setReadOnly(this.readOnly);
  }

  attach(api) {
    this.api = api;
  }

  say(message) {
    this.view.setStatus(message);
  }

  setReadOnly(readOnly) {
    this.readOnly = this.forcedReadOnly || readOnly;
    this.view.setReadOnly(this.readOnly);
  }

  async load() {
    for (;;) {
      try {
        const data = await this.getBoard();
        this.version = data.version;
        for (const element of data.elements) this.acked.set(element.id, keyOf(element));
        this.setReadOnly(data.read_only);
        this.say("");
        this.retryMs = FIRST_RETRY_MS;
        this.loaded = true;
        // Anything announced while loading is fetched once the editor has the scene.
        setTimeout(() => this.pump(), 0);
        return {
          elements: restoreElements(data.elements, null),
          scrollToContent: true,
        };
      } catch (error) {
        this.say(`The board could not be loaded (${error.message}); trying again.`);
        await new Promise((resolve) => setTimeout(resolve, this.retryMs));
        this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      }
    }
  }

  // Called by Excalidraw on every change, pointer moves included: keep it cheap.
  localChanged(elements) {
    if (this.readOnly || !this.loaded) return;
    let changed = false;
    for (const element of elements) {
      if (!SYNCED_TYPES.has(element.type)) {
        if (!element.isDeleted && !this.noticedUnsynced) {
          this.noticedUnsynced = true;
          this.say(UNSYNCED_NOTICE);
        }
      } else if (this.acked.get(element.id) !== keyOf(element)) {
        changed = true;
      }
    }
    if (changed) this.schedule(DEBOUNCE_MS);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  // The room's update channel announced a new version (detail.version, when it knows it).
  remoteChanged(version) {
    if (typeof version === "number" && version <= this.version) return;
    this.wantFetch = true;
    this.pump();
  }

  schedule(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), delay);
  }

  pendingChanges() {
    return this.api
      .getSceneElementsIncludingDeleted()
      .filter((e) => SYNCED_TYPES.has(e.type) && this.acked.get(e.id) !== keyOf(e));
  }

  // One request at a time, so replies apply in order and versions never go backwards.
  async pump() {
    if (this.busy || this.stopped || !this.loaded || !this.api) return;
    this.busy = true;
    clearTimeout(this.timer);
    try {
      for (;;) {
        const changes = this.readOnly ? [] : this.pendingChanges();
        const signature = changes.map((e) => `${e.id}:${keyOf(e)}`).join(",");
        if (changes.length && signature !== this.rejected) {
          await this.send(changes, signature);
        } else if (this.wantFetch) {
          this.wantFetch = false;
          await this.fetchLatest();
        } else {
          break;
        }
      }
      this.retryMs = FIRST_RETRY_MS;
    } catch (error) {
      if (!(error instanceof RetryLater)) throw error;
      const seconds = Math.round(this.retryMs / 1000);
      this.say(`${error.message} Your drawing is kept here; trying again in ${seconds} s.`);
      this.schedule(this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    } finally {
      this.busy = false;
    }
  }

  async request(options) {
    try {
      return await fetch(this.url, {
        credentials: "same-origin",
        cache: "no-store",
        ...options,
        headers: { Accept: "application/json", ...options.headers },
      });
    } catch {
      throw new RetryLater("The server cannot be reached.");
    }
  }

  async getBoard() {
    const response = await this.request({ method: "GET" });
    if (!response.ok) throw new RetryLater(`The board could not be fetched (${response.status}).`);
    return response.json();
  }

  async fetchLatest() {
    try {
      const data = await this.getBoard();
      this.setReadOnly(data.read_only);
      if (data.version > this.version) {
        this.applyRemote(data.elements);
        this.version = data.version;
      }
    } catch (error) {
      this.wantFetch = true;
      throw error;
    }
  }

  async send(changes, signature) {
    // Excalidraw mutates elements in place: take the keys and the body now, not after the await.
    const sent = changes.map((e) => [e.id, keyOf(e)]);
    const body = JSON.stringify({ base_version: this.version, elements: changes });
    const response = await this.request({
      method: "POST",
      body,
      headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrfToken },
    });
    if (response.status === 400) {
      const data = await response.json().catch(() => ({}));
      this.rejected = signature;
      this.say(
        `Not saved: ${data.error || "the server refused this drawing."} Your drawing is kept here; change it to try again.`,
      );
      return;
    }
    if (response.status === 403) {
      // A frozen board refuses writes; the GET says so, and the editor switches to view mode.
      this.wantFetch = true;
      await this.fetchLatest();
      if (this.readOnly) {
        this.say("The board is read-only now: the last changes here were not saved.");
        return;
      }
      throw new RetryLater("The server refused the save (403).");
    }
    if (!response.ok) throw new RetryLater(`The board could not be saved (${response.status}).`);
    const data = await response.json();
    for (const [id, key] of sent) this.acked.set(id, key);
    this.rejected = null;
    this.applyRemote(data.elements);
    this.version = Math.max(this.version, data.version);
    this.say("");
  }

  applyRemote(remoteElements) {
    if (!remoteElements.length) return;
    const local = this.api.getSceneElementsIncludingDeleted();
    const localById = new Map(local.map((e) => [e.id, e]));
    const merged = reconcileElements(
      local,
      restoreElements(remoteElements, null),
      this.api.getAppState(),
    );
    this.api.updateScene({ elements: merged, captureUpdate: CaptureUpdateAction.NEVER });
    const mergedById = new Map(merged.map((e) => [e.id, e]));
    for (const remote of remoteElements) {
      const before = localById.get(remote.id);
      const after = mergedById.get(remote.id);
      // The server holds `remote` now. The only exception: a newer remote copy that the editor
      // set aside because the user is editing that element; the edit goes out when it changes.
      const setAside =
        before && after && keyOf(after) !== keyOf(remote) && remoteWins(before, remote);
      if (!setAside) this.acked.set(remote.id, keyOf(remote));
    }
  }
}

function addStylesheet() {
  const href = new URL("./mount.css", import.meta.url).href;
  if (document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.append(link);
}

function Board({ sync }) {
  const [status, setStatus] = useState("");
  const [readOnly, setReadOnly] = useState(sync.readOnly);
  useEffect(() => sync.connect({ setStatus, setReadOnly }), [sync]);
  return (
    <div className="spar-board">
      <p className="spar-board__status" role="status">
        {status}
      </p>
      <div className="spar-board__canvas">
        <Excalidraw
          excalidrawAPI={(api) => sync.attach(api)}
          initialData={sync.initialData}
          onChange={(elements) => sync.localChanged(elements)}
          viewModeEnabled={readOnly}
          langCode="en"
          // The room has its own shortcuts: Excalidraw takes keys only while it has focus.
          handleKeyboardGlobally={false}
          autoFocus={false}
          aiEnabled={false}
          validateEmbeddable={false}
          UIOptions={{
            canvasActions: {
              changeViewBackgroundColor: false,
              clearCanvas: false,
              export: false,
              loadScene: false,
              saveAsImage: false,
              saveToActiveFile: false,
            },
            tools: { image: false },
          }}
        >
          <MainMenu>
            <MainMenu.DefaultItems.SearchMenu />
            <MainMenu.DefaultItems.Help />
            <MainMenu.DefaultItems.ToggleTheme />
          </MainMenu>
          <WelcomeScreen>
            <WelcomeScreen.Hints.ToolbarHint />
            <WelcomeScreen.Hints.HelpHint />
            <WelcomeScreen.Center>
              <WelcomeScreen.Center.Heading>
                Draw the design: boxes for components, arrows for data, text for labels.
              </WelcomeScreen.Center.Heading>
            </WelcomeScreen.Center>
          </WelcomeScreen>
        </Excalidraw>
      </div>
    </div>
  );
}

/**
 * Mount the whiteboard into `element`, which carries data-board-url, data-read-only,
 * data-asset-path (the static folder holding fonts/) and data-csrf-token. Mounting twice is a
 * no-op. A `spar:board-changed` event on the element (detail.version) makes it fetch and merge.
 */
export function mountBoard(element) {
  if (element.sparBoard) return element.sparBoard;
  // Excalidraw reads this global for its fonts; the bundle sits beside fonts/, hence the default.
  window.EXCALIDRAW_ASSET_PATH =
    element.dataset.assetPath || new URL("./", import.meta.url).href;
  addStylesheet();
  const sync = new BoardSync({
    url: element.dataset.boardUrl,
    csrfToken: element.dataset.csrfToken || "",
    readOnly: element.dataset.readOnly === "true",
  });
  const onChanged = (event) => sync.remoteChanged(event.detail?.version);
  element.addEventListener("spar:board-changed", onChanged);
  const root = createRoot(element);
  root.render(<Board sync={sync} />);
  element.sparBoard = {
    // The scene as drawn here, deleted elements left out: for tests and the room's own checks.
    elements: () => (sync.api ? sync.api.getSceneElements() : []),
    unmount() {
      element.removeEventListener("spar:board-changed", onChanged);
      sync.stop();
      root.unmount();
      delete element.sparBoard;
    },
  };
  return element.sparBoard;
}
