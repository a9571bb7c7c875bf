using System.Security.Cryptography;
using Reference.Contracts;
using Reference.Storage;

namespace Reference.UploadApi.Storage;

/// <summary>
/// Writes originals to the image store. A file is streamed to <c>{uploadId}.tmp</c> in the store's staging
/// folder (hashed and counted on the way, never held in memory) and kept as <c>originals/{uploadId}.{ext}</c>
/// only once it is accepted (a rename in the local folder, a PUT to a bucket), so a worker never sees a
/// partial original. Every key is made here from the upload id.
/// </summary>
public sealed class OriginalStore(IImageStore store)
{
    private const int BufferSize = 81920;

    private string OriginalsDirectory => store.StagingFolder;

    public async Task<ReceivedOriginal> ReceiveAsync(Guid uploadId, Stream source, long maxBytes, CancellationToken cancellationToken)
    {
        var head = new byte[AcceptedImageFormat.SignatureLength];
        var headLength = await source.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        if (headLength == 0)
        {
            return ReceivedOriginal.Rejected(ReceiveError.Empty);
        }

        // Decided before anything touches the disk: a non-image is refused without storing it.
        var format = AcceptedImageFormat.FromSignature(head.AsSpan(0, headLength));
        if (format is null)
        {
            return ReceivedOriginal.Rejected(ReceiveError.UnsupportedType);
        }

        var temporaryPath = Path.Combine(OriginalsDirectory, $"{uploadId}.tmp");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        FileStream? file = null;
        try
        {
            file = OnDisk(() =>
            {
                Directory.CreateDirectory(OriginalsDirectory);
                return new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
            });
            hash.AppendData(head, 0, headLength);
            await OnDiskAsync(file.WriteAsync(head.AsMemory(0, headLength), cancellationToken));
            length = headLength;

            var buffer = new byte[BufferSize];
            int read;
            // Errors reading the request are the client's (its body); errors writing are the storage's.
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                length += read;
                if (length > maxBytes)
                {
                    break;
                }

                hash.AppendData(buffer, 0, read);
                await OnDiskAsync(file.WriteAsync(buffer.AsMemory(0, read), cancellationToken));
            }

            // On the disk before the row that promises it is committed (MySQL flushes that
            // at commit), so a power cut after the 202 cannot leave a row without its file.
            if (length <= maxBytes)
            {
                OnDisk(() => file.Flush(flushToDisk: true));
            }

            // Closing writes what the stream still buffers: a disk error here is the storage's too.
            await OnDiskAsync(file.DisposeAsync());
            if (length > maxBytes)
            {
                File.Delete(temporaryPath);
                return ReceivedOriginal.Rejected(ReceiveError.TooLarge);
            }
        }
        catch
        {
            if (file is not null)
            {
                await file.DisposeAsync();
                File.Delete(temporaryPath);
            }

            throw;
        }

        return new ReceivedOriginal(null, format, temporaryPath, length, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>
    /// Keeps an accepted original under its key and returns the key, before the row that names it is
    /// written (the local store flushes the folder after its rename, so a power cut cannot lose the name).
    /// </summary>
    public async Task<string> KeepAsync(Guid uploadId, ReceivedOriginal original, CancellationToken cancellationToken)
    {
        var key = ImageStorage.OriginalKey(uploadId, original.Format!.Extension);
        await store.KeepFileAsync(key, original.TemporaryPath!, cancellationToken);
        return key;
    }

    public void Discard(ReceivedOriginal original)
    {
        if (original.TemporaryPath is not null)
        {
            File.Delete(original.TemporaryPath);
        }
    }

    public Task DeleteAsync(string key) => store.DeleteAsync(key);

    private static T OnDisk<T>(Func<T> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageUnavailableException(e);
        }
    }

    private static void OnDisk(Action write) => OnDisk(() => { write(); return true; });

    private static async Task OnDiskAsync(ValueTask write)
    {
        try
        {
            await write;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageUnavailableException(e);
        }
    }
}

public enum ReceiveError
{
    Empty,
    UnsupportedType,
    TooLarge,
}

public sealed record ReceivedOriginal(ReceiveError? Error, AcceptedImageFormat? Format, string? TemporaryPath, long Length, string? Sha256)
{
    public static ReceivedOriginal Rejected(ReceiveError error) => new(error, null, null, 0, null);
}
