using System.Text;
using Reference.ImageWorker.Pipeline;
using Reference.Tests.Support;

namespace Reference.ImageWorker.Tests.Pipeline;

public abstract partial class VariantWriterTests
{
    public static TheoryData<string, byte[], string> UnprocessableOriginals()
    {
        var jpeg = File.ReadAllBytes(Corpus.Path("kite-2560x1600.jpg"));
        var png = File.ReadAllBytes(Corpus.Path("elarun-2560x1600.png"));
        var webp = File.ReadAllBytes(Corpus.Path("wood.webp"));
        var corruptHeader = (byte[])jpeg.Clone();
        // Junk over the segments after the start marker, as a damaged transfer would leave.
        Array.Fill(corruptHeader, (byte)0x5A, 2, 4000);
        return new TheoryData<string, byte[], string>
        {
            { "empty file", [], "not a JPEG, PNG or WebP" },
            { "text named .jpg", Encoding.UTF8.GetBytes("hello, this is not an image\n"), "not a JPEG, PNG or WebP" },
            { "html named .jpg", Encoding.UTF8.GetBytes("<!doctype html><html><body>hi</body></html>"), "not a JPEG, PNG or WebP" },
            { "svg", Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>"), "not a JPEG, PNG or WebP" },
            { "truncated jpeg", jpeg[..(jpeg.Length / 3)], "truncated" },
            { "jpeg with a corrupted header", corruptHeader, "corrupt" },
            { "truncated png", png[..(png.Length / 2)], "truncated" },
            { "truncated webp", webp[..(webp.Length / 2)], "truncated" },
            { "png header claiming 100000x100000", PngBytes.Claiming(100_000, 100_000), "the limit is" },
        };
    }

    [Theory]
    [MemberData(nameof(UnprocessableOriginals))]
    public async Task An_original_that_cannot_be_processed_fails_permanently_with_a_reason_for_people(string what, byte[] bytes, string reasonContains)
    {
        var uploadId = Guid.NewGuid();
        var key = _storage.AddOriginal(uploadId, bytes, "jpg");

        var failure = await Assert.ThrowsAsync<UnprocessableImageException>(() => _writer.WriteAsync(uploadId, key));

        Assert.Contains(reasonContains, failure.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(_storage.VariantFolder(uploadId)) && Directory.EnumerateFiles(_storage.VariantFolder(uploadId)).Any(), what);
    }

    [Fact]
    public async Task An_image_needing_a_buffer_over_the_memory_limit_fails_permanently()
    {
        var writer = CreateWriter(new ImageOptions { AllocationLimitMegabytes = 4 });
        var uploadId = Guid.NewGuid();
        var key = _storage.AddOriginal(uploadId, Corpus.Path("kite-2560x1600.jpg"));

        var failure = await Assert.ThrowsAsync<UnprocessableImageException>(() => writer.WriteAsync(uploadId, key));

        Assert.Contains("more memory", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_original_or_a_key_outside_storage_fails_permanently()
    {
        Assert.Contains("missing", (await Assert.ThrowsAsync<UnprocessableImageException>(() => _writer.WriteAsync(Guid.NewGuid(), "originals/nothing.jpg"))).Message);
        Assert.Contains("outside", (await Assert.ThrowsAsync<UnprocessableImageException>(() => _writer.WriteAsync(Guid.NewGuid(), "../../etc/passwd"))).Message);
    }
}
