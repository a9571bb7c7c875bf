using System.Runtime.CompilerServices;
using Reference.Contracts;

namespace Reference.Storage;

/// <summary>
/// The image folder (<c>Storage:Root</c>): a key is a path under it. A write goes to a temporary name
/// beside its target and is renamed into place, so a reader sees a whole file or none.
/// </summary>
public sealed class LocalImageStore : IImageStore
{
    private const int BufferSize = 81920;
    private readonly string _root;

    public LocalImageStore(string root)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        StagingFolder = Path.Combine(_root, ImageStorage.OriginalsFolder);
    }

    /// <summary>Under the root, so keeping a staged file is a rename on the same file system.</summary>
    public string StagingFolder { get; }

    /// <summary>The file that holds <paramref name="key"/>.</summary>
    public string PathOf(string key) => Path.Combine(_root, StorageKeys.Checked(key));

    public async Task PutAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, useAsync: true))
            {
                await content.CopyToAsync(file, cancellationToken);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new StorageUnavailableException(e);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>The folder is flushed after the rename: a rename lives in the folder, so without it a power cut could lose the name.</summary>
    public Task KeepFileAsync(string key, string path, CancellationToken cancellationToken = default)
    {
        var target = PathOf(key);
        OnDisk(() =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(path, target, overwrite: true);
            DirectorySync.Flush(Path.GetDirectoryName(target)!);
        });
        return Task.CompletedTask;
    }

    public Task<StoredObject?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        try
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 4096, useAsync: true);
            var info = new FileInfo(path);
            return Task.FromResult<StoredObject?>(new StoredObject(file, file.Length, info.LastWriteTimeUtc, EntityTagOf(info)));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<StoredObject?>(null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageUnavailableException(e);
        }
    }

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default) => Task.FromResult(File.Exists(PathOf(key)));

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        OnDisk(() =>
        {
            if (Directory.Exists(Path.GetDirectoryName(path)))
            {
                File.Delete(path);
            }
        });
        return Task.CompletedTask;
    }

    public Task DeleteFolderAsync(string folder, CancellationToken cancellationToken = default)
    {
        try
        {
            Directory.Delete(PathOf(folder), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Gone already, or never written.
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<StoredKey> ListAsync(string folder, DateTimeOffset? modifiedBefore = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var directory = new DirectoryInfo(PathOf(folder));
        if (!directory.Exists)
        {
            yield break;
        }

        foreach (var file in directory.EnumerateFiles("*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (modifiedBefore is { } before && file.LastWriteTimeUtc >= before.UtcDateTime)
            {
                continue;
            }

            var key = Path.GetRelativePath(_root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            yield return new StoredKey(key, file.Length, file.LastWriteTimeUtc);
        }

        await Task.CompletedTask;
    }

    /// <summary>As ASP.NET Core's static files make it, so both ways of serving a file agree.</summary>
    private static string EntityTagOf(FileInfo file) =>
        $"\"{(new DateTimeOffset(file.LastWriteTimeUtc).ToFileTime() ^ file.Length):x}\"";

    private static void OnDisk(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageUnavailableException(e);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
