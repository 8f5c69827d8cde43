"""Local Vertex AI media emulator (docs/interface.md section 6).

Serves `:generateContent` (image output), `:predictLongRunning` (Veo) and
`:fetchPredictOperation` to the real google-genai client, with real PNG and
H.264 MP4 outputs, plus control routes under `/_emulator/` for latency and
fault injection. Run: `python -m infra.media_emulator --host 127.0.0.1 --port P`.
"""

from .emulator import Emulator
from .server import make_server

__all__ = ["Emulator", "make_server"]
