namespace Reference.Storage;

/// <summary>
/// Where originals and variants live, by key (<c>originals/{id}.jpg</c>, <c>variants/{id}/thumb.jpg</c>;
/// see <see cref="Reference.Contracts.ImageStorage"/>). An object is visible whole or not at all.
/// <see cref="LocalImageStore"/> is a folder (the default), <see cref="S3ImageStore"/> a bucket.
/// </summary>
public interface IImageStore
{
    /// <summary>Stores <paramref name="content"/> under <paramref name="key"/>, replacing what was there; readers see the old bytes or the new, never a part.</summary>
    Task PutAsync(string key, Stream content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a finished local file under <paramref name="key"/> and takes the file: locally a rename (the file
    /// must be in <see cref="StagingFolder"/>), in a bucket an upload and then the file's removal.
    /// </summary>
    Task KeepFileAsync(string key, string path, CancellationToken cancellationToken = default);

    /// <summary>The object, or null when there is none. The caller disposes it.</summary>
    Task<StoredObject?> GetAsync(string key, CancellationToken cancellationToken = default);

    Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Removing what is not there is a no-op, so replicas and redeliveries may race.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Every object whose key starts with <paramref name="folder"/><c>/</c>.</summary>
    Task DeleteFolderAsync(string folder, CancellationToken cancellationToken = default);

    /// <summary>Every object under <paramref name="folder"/><c>/</c> (at any depth), last written before <paramref name="modifiedBefore"/> when given.</summary>
    IAsyncEnumerable<StoredKey> ListAsync(string folder, DateTimeOffset? modifiedBefore = null, CancellationToken cancellationToken = default);

    /// <summary>A local folder for files on their way in (see <see cref="KeepFileAsync"/>).</summary>
    string StagingFolder { get; }
}

public sealed record StoredKey(string Key, long Length, DateTimeOffset LastModified);

/// <summary>An object's bytes and what a cache needs to know about them.</summary>
public sealed class StoredObject(Stream content, long length, DateTimeOffset lastModified, string entityTag) : IAsyncDisposable, IDisposable
{
    public Stream Content { get; } = content;

    public long Length { get; } = length;

    public DateTimeOffset LastModified { get; } = lastModified;

    /// <summary>Quoted, as in an ETag header.</summary>
    public string EntityTag { get; } = entityTag;

    public async Task<byte[]> ReadAllBytesAsync(CancellationToken cancellationToken = default)
    {
        var bytes = new byte[Length];
        await Content.ReadExactlyAsync(bytes, cancellationToken);
        return bytes;
    }

    public ValueTask DisposeAsync() => Content.DisposeAsync();

    public void Dispose() => Content.Dispose();
}

/// <summary>The store could not be reached or written (disk full, a share gone, the bucket down): the server's fault, not the client's.</summary>
public sealed class StorageUnavailableException(Exception inner) : Exception("The image storage could not be reached.", inner);

/// <summary>Keys are made by the services from upload ids; one that could leave its folder is refused before any store sees it.</summary>
public static class StorageKeys
{
    public static bool IsSafe(string key) =>
        !string.IsNullOrEmpty(key) && !key.StartsWith('/') && !key.Contains('\\') && !key.Contains('\0')
        && key.Split('/').All(part => part is not ("" or "." or ".."));

    public static string Checked(string key) =>
        IsSafe(key) ? key : throw new ArgumentException($"'{key}' is not an image storage key.", nameof(key));
}
