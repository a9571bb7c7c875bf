using Reference.Contracts;
using Reference.Tests.Support;

namespace Reference.ImageWorker.Tests.Consumers;

/// <summary>The WebP pass after Ready, on its own queue (image-webp).</summary>
public sealed partial class ImageUploadedConsumerTests
{
    [Fact]
    public async Task A_processed_upload_carries_its_placeholder_and_gets_webp_copies_after_it_is_announced_while_a_corrupt_pass_fails_nothing()
    {
        await using var worker = new WorkerFactory(_servers, _storage.Root).Start();
        // A pass over a variant that is not an image, as a damaged disk would leave it.
        var damagedId = Guid.NewGuid();
        var damagedKey = $"{damagedId}/thumb.jpg";
        Directory.CreateDirectory(_storage.VariantFolder(damagedId));
        await File.WriteAllBytesAsync(_storage.VariantPath(damagedKey), [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]);
        await _events.Bus.Publish(new ImageProcessed(damagedId, null, [new ImageVariant("thumb", 200, 125, "jpeg", 7, damagedKey)]));
        var job = Job(Corpus.Path("kite-2560x1600.jpg"));

        await _events.Bus.Publish(job);

        var processed = await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == job.UploadId);
        Assert.StartsWith("data:image/webp;base64,", processed.Placeholder, StringComparison.Ordinal);
        // One copy at a time, in order: once the upload's copies exist, the damaged pass is over.
        var copies = processed.Variants.Select(v => _storage.VariantPath(ImageStorage.WebpCopyKey(v.Key))).ToList();
        Assert.True(await Poll.UntilAsync(() => copies.All(File.Exists), TimeSpan.FromSeconds(30)), "No WebP copies of the upload.");
        Assert.True(copies.Sum(c => new FileInfo(c).Length) < processed.Variants.Sum(v => v.Bytes));
        Assert.False(File.Exists(_storage.VariantPath(ImageStorage.WebpCopyKey(damagedKey))));
        Assert.True(File.Exists(_storage.VariantPath(damagedKey)));
        Assert.Empty(_events.Of<ImageProcessingFailed>(e => e.UploadId == damagedId || e.UploadId == job.UploadId));
    }
}
