"""predictLongRunning + fetchPredictOperation (Veo), through the real google-genai client."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import re
import time
import uuid

import pytest
from google.genai import errors, types
from PIL import Image

from .conftest import BUCKET

pytestmark = pytest.mark.integration

MODEL = "veo-3.1-fast-generate-001"


def png(colour=(40, 90, 160), size=(1024, 576)) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", size, colour)
    img.paste((230, 40, 40), (100, 100, 400, 300))
    img.save(buf, format="PNG")
    return buf.getvalue()


def wait(client, op, timeout=120.0):
    # Generous: the emulator encodes each clip with ffmpeg, which a loaded
    # 2-core machine slows several-fold (30 s was once too little at load 20).
    deadline = time.monotonic() + timeout
    while not op.done:
        assert time.monotonic() < deadline, "operation did not finish"
        time.sleep(0.1)
        op = client.operations.get(op)
    return op


def start(
    client,
    *,
    duration=4,
    aspect="16:9",
    resolution="720p",
    out=None,
    image=True,
    prompt="slow push in",
):
    return client.models.generate_videos(
        model=MODEL,
        source=types.GenerateVideosSource(
            prompt=prompt,
            image=types.Image(image_bytes=png(), mime_type="image/png") if image else None,
        ),
        config=types.GenerateVideosConfig(
            duration_seconds=duration,
            aspect_ratio=aspect,
            resolution=resolution,
            output_gcs_uri=out,
        ),
    )


def test_image_to_video_into_storage(client, gcs_get, probe):
    out = f"gs://{BUCKET}/veo-out/c1/a1/"
    op = start(client, out=out)
    assert op.name.startswith(
        f"projects/demo-x/locations/us-central1/publishers/google/models/{MODEL}/operations/"
    )
    op = wait(client, op)
    assert op.error is None
    assert op.response.rai_media_filtered_count == 0
    (gv,) = op.response.generated_videos
    assert re.fullmatch(rf"{re.escape(out)}[0-9]+/sample_0\.mp4", gv.video.uri)
    assert gv.video.mime_type == "video/mp4"
    info = probe(gcs_get(gv.video.uri))
    assert (info["codec"], info["width"], info["height"]) == ("h264", 1280, 720)
    assert abs(info["duration_s"] - 4.0) <= 0.1
    assert "yuv420p" in info["stderr"]
    assert info["boxes"].index("moov") < info["boxes"].index("mdat")  # +faststart


def test_operation_name_ends_in_a_uuid_and_output_folder_is_numeric(client):
    # As on Vertex: .../operations/{uuid}, while the clip lands under a numeric
    # folder that is not the name's id (a pipeline must not derive one from the other).
    out = f"gs://{BUCKET}/veo-out/c1/uuid/"
    ops = [start(client, out=out) for _ in range(2)]
    prefix = f"projects/demo-x/locations/us-central1/publishers/google/models/{MODEL}/operations/"
    tails = []
    for op in ops:
        assert op.name.startswith(prefix)
        tail = op.name[len(prefix) :]
        assert str(uuid.UUID(tail)) == tail  # canonical 8-4-4-4-12 lower-case hex
        tails.append(tail)
    assert tails[0] != tails[1]
    for op, tail in zip(ops, tails, strict=True):
        uri = wait(client, op).response.generated_videos[0].video.uri
        folder, sample = uri[len(out) :].split("/")
        assert folder.isdigit() and folder != tail and sample == "sample_0.mp4"


def test_resume_from_stored_name_vertical_8s(client, gcs_get, probe):
    op = start(client, duration=8, aspect="9:16", out=f"gs://{BUCKET}/veo-out/c1/a2")
    stored = op.name  # what the pipeline would keep in Firestore
    resumed = wait(client, types.GenerateVideosOperation(name=stored))
    uri = resumed.response.generated_videos[0].video.uri
    assert uri.startswith(f"gs://{BUCKET}/veo-out/c1/a2/") and uri.endswith("/sample_0.mp4")
    info = probe(gcs_get(uri))
    assert (info["codec"], info["width"], info["height"]) == ("h264", 720, 1280)
    assert abs(info["duration_s"] - 8.0) <= 0.1


def test_async_text_only_1080p_inline_bytes(client, probe):
    async def go():
        op = await client.aio.models.generate_videos(
            model=MODEL,
            source=types.GenerateVideosSource(prompt="a comet over mountains"),
            config=types.GenerateVideosConfig(
                duration_seconds=4, aspect_ratio="16:9", resolution="1080p"
            ),
        )
        deadline = time.monotonic() + 30
        while not op.done:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
            op = await client.aio.operations.get(op)
        return op

    op = asyncio.run(go())
    video = op.response.generated_videos[0].video
    assert video.uri is None and video.video_bytes
    info = probe(video.video_bytes)
    assert (info["codec"], info["width"], info["height"]) == ("h264", 1920, 1080)
    assert abs(info["duration_s"] - 4.0) <= 0.1


def test_video_latency_keeps_operation_pending(client, control):
    control("POST", "latency", {"video_s": 1.0})
    t = time.monotonic()
    op = start(client)
    op = client.operations.get(op)
    assert not op.done
    op = wait(client, op)
    assert time.monotonic() - t >= 1.0
    assert op.response.generated_videos


def test_unknown_operation_is_404(client):
    name = (
        f"projects/demo-x/locations/us-central1/publishers/google/models/{MODEL}"
        "/operations/00000000-0000-0000-0000-000000000000"
    )
    with pytest.raises(errors.ClientError) as exc:
        client.operations.get(types.GenerateVideosOperation(name=name))
    assert exc.value.code == 404
    assert exc.value.status == "NOT_FOUND"


@pytest.mark.parametrize(
    "config",
    [
        {"duration_seconds": 9},
        {"aspect_ratio": "4:3"},
        {"resolution": "8k"},
        {"duration_seconds": 5},
    ],
)
def test_invalid_video_parameters_are_400(client, config):
    with pytest.raises(errors.ClientError) as exc:
        client.models.generate_videos(
            model=MODEL,
            source=types.GenerateVideosSource(prompt="x"),
            config=types.GenerateVideosConfig(**config),
        )
    assert exc.value.code == 400


def test_undecodable_input_image_is_400(client):
    with pytest.raises(errors.ClientError) as exc:
        client.models.generate_videos(
            model=MODEL,
            source=types.GenerateVideosSource(
                prompt="x", image=types.Image(image_bytes=b"junk", mime_type="image/png")
            ),
        )
    assert exc.value.code == 400


def test_burst_of_fifty_operations(client, control):
    """50 publishes at once: every call is answered and every operation finishes."""
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        ops = list(pool.map(lambda i: start(client, out=f"gs://{BUCKET}/burst/{i}/"), range(50)))
    assert len({op.name for op in ops}) == 50
    done = [wait(client, op, timeout=60) for op in ops]
    assert all(op.response.generated_videos[0].video.uri for op in done)
    calls = control("GET", "calls")[1]
    assert calls["predictLongRunning"] == 50


def test_input_image_from_storage_uri(client, gcs_put, gcs_get, probe):
    gcs_put(f"gs://{BUCKET}/media/c1/still.png", png((10, 120, 60)), "image/png")
    op = client.models.generate_videos(
        model=MODEL,
        source=types.GenerateVideosSource(
            prompt="pan",
            image=types.Image(gcs_uri=f"gs://{BUCKET}/media/c1/still.png", mime_type="image/png"),
        ),
        config=types.GenerateVideosConfig(
            duration_seconds=4,
            aspect_ratio="16:9",
            resolution="720p",
            output_gcs_uri=f"gs://{BUCKET}/veo-out/c1/gcs/",
        ),
    )
    op = wait(client, op)
    info = probe(gcs_get(op.response.generated_videos[0].video.uri))
    assert (info["width"], info["height"]) == (1280, 720)


def test_missing_input_image_object_is_400(client):
    with pytest.raises(errors.ClientError) as exc:
        client.models.generate_videos(
            model=MODEL,
            source=types.GenerateVideosSource(
                prompt="x",
                image=types.Image(gcs_uri=f"gs://{BUCKET}/nope.png", mime_type="image/png"),
            ),
        )
    assert exc.value.code == 400


def test_unwritable_output_bucket_ends_in_op_error(client):
    op = wait(client, start(client, out="gs://no-such-bucket-here/out/"))
    assert op.error and op.error["code"] in (7, 13)
    assert "no-such-bucket-here" in op.error["message"]
    assert op.response is None
