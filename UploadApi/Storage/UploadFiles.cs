using Microsoft.Extensions.Options;
using Reference.Contracts;

namespace Reference.UploadApi.Storage;

/// <summary>
/// Removes an upload's files: its original (UploadApi's own) and its variants folder (the worker's, which
/// the gateway serves). Removing what is already gone is a no-op, so replicas and redeliveries may race.
/// </summary>
public sealed class UploadFiles(IOptions<ImageStorage> options)
{
    public void DeleteOriginal(string originalKey) => File.Delete(Path.Combine(options.Value.Root, originalKey));

    public void DeleteVariants(Guid uploadId)
    {
        try
        {
            Directory.Delete(Path.Combine(options.Value.Root, ImageStorage.VariantFolderKey(uploadId)), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Gone already, or never written.
        }
    }
}
