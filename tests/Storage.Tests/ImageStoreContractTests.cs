using System.Text;
using Microsoft.Extensions.Hosting;
using Reference.Tests.Support;

namespace Reference.Storage.Tests;

/// <summary>What every <see cref="IImageStore"/> promises, held against the folder and a real S3 server alike: one subclass each, below.</summary>
public abstract class ImageStoreContractTests
{
    protected abstract IImageStore Store { get; }

    protected static string Key(string name) => $"variants/{Guid.NewGuid()}/{name}";

    [SkippableFact]
    public async Task A_stored_object_reads_back_with_its_bytes_length_and_an_entity_tag()
    {
        var key = Key("thumb.jpg");
        var bytes = Encoding.UTF8.GetBytes("not really a jpeg, but bytes all the same");

        await Store.PutAsync(key, new MemoryStream(bytes));

        Assert.True(await Store.ExistsAsync(key));
        await using var stored = await Store.GetAsync(key);
        Assert.NotNull(stored);
        Assert.Equal(bytes.Length, stored.Length);
        Assert.Equal(bytes, await stored.ReadAllBytesAsync());
        Assert.Matches("^\".+\"$", stored.EntityTag);
        Assert.InRange(stored.LastModified, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [SkippableFact]
    public async Task A_missing_key_is_null_and_absent_and_deleting_it_is_a_no_op()
    {
        var key = Key("missing.jpg");

        Assert.Null(await Store.GetAsync(key));
        Assert.False(await Store.ExistsAsync(key));
        await Store.DeleteAsync(key);
        await Store.DeleteFolderAsync($"variants/{Guid.NewGuid()}");
    }

    [SkippableFact]
    public async Task Putting_again_replaces_and_deleting_removes()
    {
        var key = Key("card.jpg");
        await Store.PutAsync(key, new MemoryStream([1, 2, 3]));
        await Store.PutAsync(key, new MemoryStream([4, 5]));

        await using (var stored = await Store.GetAsync(key))
        {
            Assert.Equal([4, 5], await stored!.ReadAllBytesAsync());
        }

        await Store.DeleteAsync(key);
        Assert.False(await Store.ExistsAsync(key));
        Assert.Null(await Store.GetAsync(key));
    }

    [SkippableFact]
    public async Task A_kept_file_is_stored_under_its_key_and_leaves_the_staging_folder()
    {
        Directory.CreateDirectory(Store.StagingFolder);
        var staged = Path.Combine(Store.StagingFolder, $"{Guid.NewGuid()}.tmp");
        await File.WriteAllBytesAsync(staged, [9, 8, 7]);
        var key = $"originals/{Guid.NewGuid()}.jpg";

        await Store.KeepFileAsync(key, staged);

        Assert.False(File.Exists(staged));
        await using var stored = await Store.GetAsync(key);
        Assert.Equal([9, 8, 7], await stored!.ReadAllBytesAsync());
    }

    [SkippableFact]
    public async Task Listing_finds_every_object_under_a_folder_at_any_depth_and_only_those()
    {
        var folder = $"variants/{Guid.NewGuid()}";
        await Store.PutAsync($"{folder}/thumb.jpg", new MemoryStream([1]));
        await Store.PutAsync($"{folder}/card.jpg", new MemoryStream([1, 2]));
        await Store.PutAsync($"{folder}-other/thumb.jpg", new MemoryStream([1]));

        var listed = await Store.ListAsync(folder).ToListAsync();

        Assert.Equal([$"{folder}/card.jpg", $"{folder}/thumb.jpg"], listed.Select(k => k.Key).Order());
        Assert.Equal(2, listed.Single(k => k.Key.EndsWith("card.jpg")).Length);
        Assert.Contains(await Store.ListAsync("variants").ToListAsync(), k => k.Key == $"{folder}/thumb.jpg");

        await Store.DeleteFolderAsync(folder);
        Assert.Empty(await Store.ListAsync(folder).ToListAsync());
        Assert.True(await Store.ExistsAsync($"{folder}-other/thumb.jpg"));
    }

    [SkippableFact]
    public async Task Listing_older_than_leaves_out_what_was_written_since()
    {
        var folder = $"originals-{Guid.NewGuid():N}";
        await Store.PutAsync($"{folder}/old.jpg", new MemoryStream([1]));
        // Both stores keep times to the second (S3's Last-Modified header); step past it.
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        await Store.PutAsync($"{folder}/new.jpg", new MemoryStream([1]));

        var older = await Store.ListAsync(folder, modifiedBefore: between).ToListAsync();

        Assert.Equal([$"{folder}/old.jpg"], older.Select(k => k.Key));
    }

    [SkippableFact]
    public async Task A_key_that_leaves_its_folder_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.GetAsync("../etc/passwd"));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync("/etc/passwd", new MemoryStream([1])));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync("variants/../originals/x.jpg"));
    }
}

public sealed class LocalImageStoreTests : ImageStoreContractTests, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("local-image-store-").FullName;

    public LocalImageStoreTests() => Store = new LocalImageStore(_root);

    protected override IImageStore Store { get; }

    [Fact]
    public async Task A_write_leaves_no_temporary_file_beside_its_key()
    {
        var key = "variants/x/thumb.jpg";
        await Store.PutAsync(key, new MemoryStream([1, 2, 3]));

        Assert.Equal(["thumb.jpg"], Directory.GetFiles(Path.Combine(_root, "variants", "x")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_reader_sees_nothing_or_the_whole_object_never_a_part_while_it_is_written()
    {
        // As the worker writes a new upload's variants. Not held against s3rver, which writes an object's
        // file as the PUT arrives (S3 and MinIO do not); the services never read a key before the message
        // naming it is published, after its PUT completed, so the pipeline does not rely on it.
        var key = Key("detail.jpg");
        var bytes = Enumerable.Range(0, 8 * 1024 * 1024).Select(i => (byte)i).ToArray();

        var writing = Store.PutAsync(key, new SlowStream(bytes));
        var readsWhileWriting = 0;
        while (!writing.IsCompleted)
        {
            await using var stored = await Store.GetAsync(key);
            if (stored is not null)
            {
                var read = await stored.ReadAllBytesAsync();
                Assert.True(read.SequenceEqual(bytes), $"A reader saw {read.Length} of {bytes.Length} bytes: a partial object.");
            }

            readsWhileWriting++;
        }

        await writing;
        Assert.True(readsWhileWriting > 3, $"Only {readsWhileWriting} reads overlapped the write: it proved nothing.");
        await using var final = await Store.GetAsync(key);
        Assert.Equal(bytes, await final!.ReadAllBytesAsync());
    }

    /// <summary>Hands its bytes out in small pieces with pauses, so a write is in progress long enough to read beside it.</summary>
    private sealed class SlowStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(5, cancellationToken);
            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, 64 * 1024)], cancellationToken);
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Thread.Sleep(5);
            return base.Read(buffer, offset, Math.Min(count, 64 * 1024));
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

public sealed class S3ImageStoreTests(S3Server server) : ImageStoreContractTests, IClassFixture<S3Server>
{
    protected override IImageStore Store { get; } = ImageStores.Create(new ImageStoreSettings
    {
        Kind = "S3",
        S3 = { ServiceUrl = server.ServiceUrl, Bucket = S3Server.Bucket, AccessKey = S3Server.AccessKey, SecretKey = S3Server.SecretKey },
    });

    [Fact]
    public async Task An_unreachable_server_is_storage_unavailable_not_a_missing_object()
    {
        var down = ImageStores.Create(new ImageStoreSettings
        {
            Kind = "S3",
            S3 = { ServiceUrl = $"http://127.0.0.1:{Loopback.FreePort()}", Bucket = S3Server.Bucket, AccessKey = S3Server.AccessKey, SecretKey = S3Server.SecretKey },
        });

        await Assert.ThrowsAsync<StorageUnavailableException>(() => down.GetAsync("variants/x/thumb.jpg"));
        await Assert.ThrowsAsync<StorageUnavailableException>(() => down.PutAsync("variants/x/thumb.jpg", new MemoryStream([1])));
    }
}
