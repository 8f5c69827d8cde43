"""python -m infra.media_emulator --host 127.0.0.1 --port P [--storage-url URL]"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from .server import make_server
from .video import stop_encoders


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m infra.media_emulator",
        description="Local Vertex AI media emulator (images, Veo videos, operations).",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (logged on stderr)")
    p.add_argument(
        "--storage-url",
        default=os.environ.get("STORAGE_EMULATOR_HOST"),
        help="Cloud Storage emulator base URL (default: $STORAGE_EMULATOR_HOST)",
    )
    p.add_argument(
        "--image-latency",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds a generateContent call takes (default 0)",
    )
    p.add_argument(
        "--video-latency",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds after start an operation is done at the earliest (default 0)",
    )
    p.add_argument(
        "--thought-parts",
        action="store_true",
        help="add thought parts (text and a draft image) before the final image",
    )
    args = p.parse_args(argv)
    if args.image_latency < 0 or args.video_latency < 0:
        p.error("latencies must be >= 0")

    server, emulator = make_server(
        args.host,
        args.port,
        args.storage_url,
        args.image_latency,
        args.video_latency,
        args.thought_parts,
    )

    def _stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    sys.stderr.write(
        f"media-emulator listening on http://{host}:{port}"
        f" (storage {emulator.storage_url or 'none'})\n"
    )
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        stop_encoders()
    return 0


if __name__ == "__main__":
    sys.exit(main())
