"""predictLongRunning and fetchPredictOperation (Veo): an operation per start,
its MP4 encoded on a thread and written to storageUri when the latency says
the operation is done."""

from __future__ import annotations

import base64
import random
import threading
import time
import traceback
import uuid

from . import draw, models, storage, video
from .emulator import Emulator, Operation
from .faults import Fault
from .payload import ApiError, b64decode, log, pick

VIDEO_RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
RAI_REASON = (
    "Veo could not generate videos because the input image violates Vertex AI's usage"
    " guidelines. If you think this was an error, send feedback. Support codes: 58061214"
    " (emulated)"
)
OP_ERROR_MESSAGE = "Internal error encountered during video generation (emulated op_error)."


def predict_long_running(
    emu: Emulator,
    project: str,
    location: str,
    publisher: str,
    model: str,
    body: dict,
    fault: Fault | None,
    spec: models.ModelSpec | None = None,
) -> dict:
    if fault and fault.kind == "http" and not fault.created:
        raise ApiError(fault.status, fault.message)  # refused: no operation exists
    instances = body.get("instances")
    if not isinstance(instances, list) or not instances or not isinstance(instances[0], dict):
        raise ApiError(400, "instances must be a non-empty list of objects")
    inst = instances[0]
    params = body.get("parameters")
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise ApiError(400, "parameters must be an object")
    prompt = inst.get("prompt") or ""
    if not isinstance(prompt, str):
        raise ApiError(400, "instances[0].prompt must be a string")
    try:
        duration = video.check_duration(params.get("durationSeconds"))
        resolution = params.get("resolution") or "720p"
        if spec is not None and resolution not in spec.resolutions:
            raise video.VideoError(
                f"resolution {resolution!r} is not supported by {model}; supported:"
                f" {', '.join(spec.resolutions)}"
            )
        width, height = video.video_dimensions(params.get("aspectRatio"), resolution)
    except video.VideoError as exc:
        raise ApiError(400, str(exc)) from None
    # generateAudio true: Veo 3.x returns the clip with a sound track (same page,
    # generateAudio); the emulator adds an AAC tone so players see a real track.
    audio = params.get("generateAudio")
    if audio is not None and not isinstance(audio, bool):
        raise ApiError(400, f"generateAudio must be a boolean, got {audio!r}")
    samples = params.get("sampleCount", 1)
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= 4:
        raise ApiError(400, f"sampleCount must be an integer from 1 to 4, got {samples!r}")
    storage_uri = params.get("storageUri")
    if storage_uri is not None:
        if (
            not isinstance(storage_uri, str)
            or not storage_uri.startswith("gs://")
            or not storage_uri[5:].strip("/")
        ):
            raise ApiError(400, f"storageUri must be a gs:// uri, got {storage_uri!r}")

    image = inst.get("image")
    image_bytes: bytes | None = None
    if image is not None:
        if not isinstance(image, dict):
            raise ApiError(400, "instances[0].image must be an object")
        raw = pick(image, "bytesBase64Encoded", "bytes_base64_encoded")
        uri = pick(image, "gcsUri", "gcs_uri")
        if raw is not None:
            image_bytes = b64decode(raw)
        elif isinstance(uri, str) and uri:
            if not emu.storage_url:
                raise ApiError(400, "image.gcsUri given but no storage emulator configured")
            try:
                image_bytes = storage.download(emu.storage_url, uri)
            except (storage.StorageError, ValueError) as exc:
                raise ApiError(400, f"cannot read image {uri}: {exc}") from None
        else:
            raise ApiError(400, "instances[0].image needs bytesBase64Encoded or gcsUri")
        try:
            draw.decode_image(image_bytes)
        except draw.DrawError as exc:
            raise ApiError(400, str(exc)) from None
    elif not prompt.strip():
        raise ApiError(400, "instances[0] needs a prompt or an image")

    # Real Veo operation names end in a UUID, while Veo writes its output under
    # {storageUri}/{a numeric id}/sample_N.mp4 (https://cloud.google.com/vertex-ai/
    # generative-ai/docs/model-reference/veo-video-generation, storageUri): two
    # ids, neither derivable from the other, so nothing may assume they match.
    output_id = str(random.randrange(10**18, 10**19))
    name = (
        f"projects/{project}/locations/{location}/publishers/{publisher}/models/{model}"
        f"/operations/{uuid.uuid4()}"
    )
    kind = fault.kind if fault and not fault.created and fault.kind != "slow" else None
    with emu.lock:
        op = Operation(
            name=name, output_id=output_id, started=time.monotonic(), delay_s=emu.video_s
        )
        if kind == "hang":
            op.hang = True
        elif kind in ("blocked", "op_error", "no_video"):
            op.result = outcome(kind)
        emu.prune_locked()
        emu.ops[name] = op
        output = storage_uri or ""
        emu.jobs[output] = emu.jobs.get(output, 0) + 1
    if kind is None:
        threading.Thread(
            target=produce,
            args=(
                emu,
                op,
                prompt,
                image_bytes,
                width,
                height,
                duration,
                samples,
                storage_uri,
                bool(audio),
            ),
            name=f"encode-{output_id[:8]}",
            daemon=True,
        ).start()
    if fault and fault.created:
        # The job exists and will be paid for, but the caller never learns
        # its name: the answer is lost to a 5xx or to the caller's timeout.
        emu.faults.release.wait(fault.delay_s)
        raise ApiError(fault.status, fault.message)
    if fault and fault.kind == "slow":
        # The job exists and renders; only the answer naming it comes late.
        emu.faults.release.wait(fault.delay_s)
    return {"name": name}


def outcome(kind: str) -> dict:
    if kind == "blocked":
        return {
            "response": {
                "@type": VIDEO_RESPONSE_TYPE,
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": [RAI_REASON],
            }
        }
    if kind == "op_error":
        return {"error": {"code": 13, "message": OP_ERROR_MESSAGE}}
    if kind == "no_video":
        return {"response": {"@type": VIDEO_RESPONSE_TYPE, "raiMediaFilteredCount": 0}}
    raise ValueError(kind)


def produce(
    emu: Emulator,
    op: Operation,
    prompt: str,
    image_bytes: bytes | None,
    width: int,
    height: int,
    duration: int,
    samples: int,
    storage_uri: str | None,
    audio: bool = False,
) -> None:
    t0 = time.monotonic()
    try:
        if image_bytes is None:
            image_bytes = draw.draw_png(prompt, width, height)
        mp4 = video.encode_clip(image_bytes, width, height, duration, audio=audio)
        t1 = time.monotonic()
        # Veo writes its output when the operation finishes, not before:
        # hold the clip back until the latency setting says it is done.
        time.sleep(max(0.0, op.started + op.delay_s - time.monotonic()))
        videos = []
        for i in range(samples):
            if storage_uri:
                if not emu.storage_url:
                    raise storage.StorageError(
                        "storageUri given but no storage emulator configured (--storage-url)"
                    )
                uri = f"{storage_uri.rstrip('/')}/{op.output_id}/sample_{i}.mp4"
                storage.upload(emu.storage_url, uri, mp4, "video/mp4")
                videos.append({"gcsUri": uri, "mimeType": "video/mp4"})
            else:
                videos.append(
                    {
                        "bytesBase64Encoded": base64.b64encode(mp4).decode(),
                        "mimeType": "video/mp4",
                    }
                )
        result = {
            "response": {
                "@type": VIDEO_RESPONSE_TYPE,
                "raiMediaFilteredCount": 0,
                "videos": videos,
            }
        }
        log(
            f"operation {op.short_name} {width}x{height} {duration}s encoded in {t1 - t0:.2f}s,"
            f" stored {time.monotonic() - t1:.2f}s later ({len(mp4)} bytes)"
        )
    except storage.StorageError as exc:
        code = 7 if exc.status == 403 else 13
        result = {"error": {"code": code, "message": str(exc)}}
        log(f"operation {op.short_name} failed: {exc}")
    except Exception as exc:  # noqa: BLE001 - any failure ends the operation
        result = {"error": {"code": 13, "message": f"video generation failed: {exc}"}}
        log(f"operation {op.short_name} failed: {exc}\n{traceback.format_exc()}")
    with emu.lock:
        if op.result is None:  # a fetch fault may have decided the outcome already
            op.result = result


def fetch_operation(emu: Emulator, name: object, fault: Fault | None) -> dict:
    if fault and fault.kind == "http":
        raise ApiError(fault.status, fault.message)
    if not isinstance(name, str) or not name:
        raise ApiError(400, "operationName is required")
    with emu.lock:
        op = emu.ops.get(name)
        if op is None:
            raise ApiError(404, f"Operation {name} not found.")
        if fault and fault.kind == "hang":
            op.hang = True
        elif fault and fault.kind in ("blocked", "op_error", "no_video"):
            op.result = outcome(fault.kind)
            op.delay_s = 0.0
            op.hang = False
        done = not op.hang and op.result is not None and time.monotonic() - op.started >= op.delay_s
        if not done or op.result is None:
            # Like Vertex, a running operation's answer has no `done` at all:
            # google.longrunning.Operation in proto3 JSON omits a false bool
            # (https://protobuf.dev/programming-guides/proto3/#json), and the
            # SDK reads the absence as None (GenerateVideosOperation.done).
            return {"name": op.name}
        return {"name": op.name, "done": True, **op.result}
