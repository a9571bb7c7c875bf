using Reference.Contracts;
using Reference.ImageWorker.Pipeline;
using Reference.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace Reference.ImageWorker.Tests.Pipeline;

/// <summary>The background pass after Ready (WebP copies) and the placeholder, for each engine.</summary>
public abstract partial class VariantWriterTests
{
    [Theory]
    [InlineData("kite-2560x1600.jpg")]
    [InlineData("cups-2560x1600-exif.jpg")]
    public async Task Each_variant_gets_a_webp_copy_beside_it_of_its_size_and_at_most_two_thirds_of_its_bytes(string fileName)
    {
        var uploadId = Guid.NewGuid();
        var variants = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, Corpus.Path(fileName)));

        var pass = await new WebpCopies(_writer, _storage.Store).WriteAsync(variants);

        Assert.Equal((3, false), (pass.Written, pass.Deleted));
        foreach (var variant in variants)
        {
            var path = _storage.VariantPath(ImageStorage.WebpCopyKey(variant.Key));
            using var copy = Image.Load(path, out var format);
            Assert.IsType<WebpFormat>(format);
            Assert.Equal((variant.Width, variant.Height), (copy.Width, copy.Height));
            AssertNoPersonalMetadata(copy, File.ReadAllBytes(path));
        }

        Assert.Equal(variants.Sum(v => v.Bytes), pass.VariantBytes);
        Assert.InRange(pass.WebpBytes, 1, pass.VariantBytes * 2 / 3);
        // Again (a redelivery): the copies are whole, so nothing is rewritten.
        Assert.Equal(0, (await new WebpCopies(_writer, _storage.Store).WriteAsync(variants)).Written);
    }

    [Fact]
    public async Task A_transparent_variant_keeps_its_transparency_in_webp()
    {
        using var image = TestImages.Gradient(900, 600);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < 100; y++)
            {
                rows.GetRowSpan(y).Fill(default);
            }
        });
        var uploadId = Guid.NewGuid();
        var variants = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, TestImages.Png(image), "png"));

        await new WebpCopies(_writer, _storage.Store).WriteAsync(variants);

        using var card = Image.Load<Rgba32>(_storage.VariantPath(ImageStorage.WebpCopyKey(variants[1].Key)));
        Assert.Equal(0, card[card.Width / 2, 0].A);
        Assert.Equal(255, card[card.Width / 2, card.Height - 1].A);
    }

    [Fact]
    public async Task A_variant_that_is_not_an_image_is_unprocessable_and_a_deleted_image_stops_the_pass()
    {
        var uploadId = Guid.NewGuid();
        var variants = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, Corpus.Path("kite-2560x1600.jpg")));
        var copies = new WebpCopies(_writer, _storage.Store);
        await File.WriteAllBytesAsync(_storage.VariantPath(variants[0].Key), [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]);

        await Assert.ThrowsAsync<UnprocessableImageException>(() => copies.WriteAsync(variants));

        await _writer.DeleteVariantsAsync(uploadId);
        var pass = await copies.WriteAsync(variants);
        Assert.Equal((0, true), (pass.Written, pass.Deleted));
        Assert.False(Directory.Exists(_storage.VariantFolder(uploadId)));
    }

    [Fact]
    public async Task The_placeholder_is_a_webp_data_uri_of_a_few_hundred_bytes_20_px_on_its_longest_side()
    {
        var uploadId = Guid.NewGuid();
        var variants = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, Corpus.Path("flow-720x1440-portrait.jpg")));

        var placeholder = await _writer.MakePlaceholderAsync(variants);

        const string prefix = "data:image/webp;base64,";
        Assert.StartsWith(prefix, placeholder, StringComparison.Ordinal);
        var bytes = Convert.FromBase64String(placeholder![prefix.Length..]);
        Assert.InRange(bytes.Length, 50, 400);
        using var tiny = Image.Load(bytes);
        Assert.Equal((10, 20), (tiny.Width, tiny.Height));
    }
}
