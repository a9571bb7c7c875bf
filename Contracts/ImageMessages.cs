namespace Reference.Contracts;

// The messages of the image pipeline. Records only: every service that sends or
// receives them references this project, so there is one definition of each.

/// <summary>An original was stored and recorded; make its variants.</summary>
/// <param name="OriginalKey">Storage key of the original, relative to the image root.</param>
/// <param name="Attempt">1 for the first publish; the sweeper increments it on each re-publish.</param>
public sealed record ImageUploaded(Guid UploadId, Guid? ProductId, string OriginalKey, string ContentType, int Attempt);

/// <summary>A worker has started on the upload (informational; the status may already be later).</summary>
public sealed record ImageProcessingStarted(Guid UploadId);

/// <summary>All variants of an upload are written.</summary>
/// <param name="Placeholder">
/// A blurred preview about 20 px wide as a <c>data:</c> URI of a few hundred bytes, shown until a variant loads;
/// null from a worker that made none. The WebP copies of the variants follow later (<see cref="MessageEndpoints.WebpVariantsQueue"/>).
/// </param>
public sealed record ImageProcessed(Guid UploadId, Guid? ProductId, IReadOnlyList<ImageVariant> Variants, string? Placeholder = null);

/// <summary>The upload cannot be processed; <paramref name="Reason"/> is for people.</summary>
public sealed record ImageProcessingFailed(Guid UploadId, Guid? ProductId, string Reason);

/// <summary>
/// An image was taken off its product (or the product was deleted): remove its original and variants
/// from storage. At least once; removing what is already gone is a no-op.
/// </summary>
public sealed record ImageDeleted(Guid UploadId, Guid? ProductId);

/// <param name="Name">thumb, card, detail…</param>
/// <param name="Key">Storage key relative to the image root, e.g. <c>{uploadId}/card.jpg</c>; served under <c>/images/{Key}</c>.</param>
public sealed record ImageVariant(string Name, int Width, int Height, string Format, long Bytes, string Key);
