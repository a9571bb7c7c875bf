using Reference.Storage;

namespace Reference.ImageWorker.Tests;

/// <summary>A temporary Storage:Root laid out as UploadApi leaves it: originals/{uploadId}.{ext}.</summary>
public sealed class TestStorage : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("imageworker-storage-").FullName;

    /// <summary>Stores <paramref name="sourcePath"/> as an original and returns its key.</summary>
    public string AddOriginal(Guid uploadId, string sourcePath)
    {
        var key = $"originals/{uploadId}{Path.GetExtension(sourcePath)}";
        Directory.CreateDirectory(Path.Combine(Root, "originals"));
        File.Copy(sourcePath, Path.Combine(Root, key));
        return key;
    }

    public string AddOriginal(Guid uploadId, byte[] bytes, string extension)
    {
        var key = $"originals/{uploadId}.{extension}";
        Directory.CreateDirectory(Path.Combine(Root, "originals"));
        File.WriteAllBytes(Path.Combine(Root, key), bytes);
        return key;
    }

    public string VariantPath(string key) => Path.Combine(Root, "variants", key);

    public string VariantFolder(Guid uploadId) => Path.Combine(Root, "variants", uploadId.ToString());

    public IImageStore Store => new LocalImageStore(Root);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
