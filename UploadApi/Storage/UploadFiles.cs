using Reference.Contracts;
using Reference.Storage;

namespace Reference.UploadApi.Storage;

/// <summary>
/// Removes an upload's files: its original (UploadApi's own) and its variants folder (the worker's, which
/// the gateway serves). Removing what is already gone is a no-op, so replicas and redeliveries may race.
/// </summary>
public sealed class UploadFiles(IImageStore store)
{
    public Task DeleteOriginalAsync(string originalKey, CancellationToken cancellationToken = default) =>
        store.DeleteAsync(originalKey, cancellationToken);

    public Task DeleteVariantsAsync(Guid uploadId, CancellationToken cancellationToken = default) =>
        store.DeleteFolderAsync(ImageStorage.VariantFolderKey(uploadId), cancellationToken);
}
