# One archive for every function (infra/bundle.py): a root main.py exposes each
# entry point, so build_config.entry_point picks the function. The object name
# carries the archive's SHA-256, so any change to the code or the pinned
# requirements is a new object and redeploys every function; an unchanged tree
# is a no-op.
resource "google_storage_bucket_object" "bundle" {
  bucket       = google_storage_bucket.sources.name
  name         = "bundles/source-${filesha256(var.bundle_path)}.zip"
  source       = var.bundle_path
  content_type = "application/zip"
}
