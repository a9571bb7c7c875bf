using System.Text;
using Microsoft.Extensions.Options;
using Reference.ImageWorker.Pipeline;
using Reference.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Reference.ImageWorker.Tests.Pipeline;

/// <summary>Every engine (<c>Images:Engine</c>) is held to the same behaviour: one subclass each, below.</summary>
public abstract partial class VariantWriterTests : IDisposable
{
    private static readonly Dictionary<string, int> DefaultSizes = new() { ["thumb"] = 200, ["card"] = 600, ["detail"] = 1600 };

    private readonly ImageEngineKind _engine;
    private readonly TestStorage _storage = new();
    private readonly VariantWriter _writer;

    protected VariantWriterTests(ImageEngineKind engine)
    {
        _engine = engine;
        _writer = CreateWriter(new ImageOptions());
    }

    public static TheoryData<string> CorpusImages()
    {
        var data = new TheoryData<string>();
        foreach (var path in Corpus.AllImages())
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CorpusImages))]
    public async Task Every_corpus_image_gets_each_variant_by_longest_side_with_its_aspect_ratio_and_never_upscaled(string fileName)
    {
        var (uprightWidth, uprightHeight) = UprightSize(Corpus.Path(fileName));
        var uploadId = Guid.NewGuid();

        var variants = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, Corpus.Path(fileName)));

        Assert.Equal(["thumb", "card", "detail"], variants.Select(v => v.Name));
        foreach (var variant in variants)
        {
            var expectedLongest = Math.Min(DefaultSizes[variant.Name], Math.Max(uprightWidth, uprightHeight));
            Assert.Equal(expectedLongest, Math.Max(variant.Width, variant.Height));
            Assert.Equal(uprightWidth >= uprightHeight, variant.Width >= variant.Height);
            // Aspect ratio kept to within the rounding of one pixel on the shorter side.
            var expectedShorter = (double)Math.Min(uprightWidth, uprightHeight) * expectedLongest / Math.Max(uprightWidth, uprightHeight);
            Assert.InRange(Math.Min(variant.Width, variant.Height), expectedShorter - 1, expectedShorter + 1);

            var path = _storage.VariantPath(variant.Key);
            Assert.Equal(new FileInfo(path).Length, variant.Bytes);
            using var written = Image.Load(path, out var format);
            Assert.Equal((variant.Width, variant.Height), (written.Width, written.Height));
            Assert.Equal(variant.Format, format is PngFormat ? "png" : "jpeg");
            Assert.Equal($"{uploadId}/{variant.Name}.{(variant.Format == "png" ? "png" : "jpg")}", variant.Key);
            AssertNoPersonalMetadata(written, File.ReadAllBytes(path));
        }

        Assert.Empty(Directory.GetFiles(_storage.VariantFolder(uploadId), "*.tmp"));
    }

    [Fact]
    public async Task A_photo_with_exif_orientation_6_comes_out_upright_without_gps_make_or_model()
    {
        var original = Corpus.Path("kite-orient6-gps.jpg");
        using (var stored = Image.Load(original))
        {
            // The premise: stored portrait, rotated by EXIF, carrying GPS and camera tags.
            Assert.True(stored.Height > stored.Width);
            Assert.NotNull(stored.Metadata.ExifProfile?.GetValue(ExifTag.GPSLatitude));
            Assert.NotNull(stored.Metadata.ExifProfile?.GetValue(ExifTag.Make));
        }

        var uploadId = Guid.NewGuid();
        var variants = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, original));

        Assert.Equal(3, variants.Count);
        foreach (var variant in variants)
        {
            Assert.True(variant.Width > variant.Height, $"{variant.Name} is {variant.Width}×{variant.Height}, not landscape.");
            var bytes = File.ReadAllBytes(_storage.VariantPath(variant.Key));
            using var written = Image.Load(bytes);
            Assert.True(written.Width > written.Height);
            AssertNoPersonalMetadata(written, bytes);
            Assert.DoesNotContain("ExampleCam", Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);
            Assert.DoesNotContain("Corpus", Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);
        }

        // Landscape alone would pass upside down: the corpus keeps the same photo stored upright.
        var uprightId = Guid.NewGuid();
        var upright = await _writer.WriteAsync(uprightId, _storage.AddOriginal(uprightId, Corpus.Path("kite-2560x1600.jpg")));
        using var turned = Image.Load<Rgb24>(_storage.VariantPath(variants[0].Key));
        using var reference = Image.Load<Rgb24>(_storage.VariantPath(upright[0].Key));
        Assert.InRange(MeanDifference(turned, reference), 0, 8);
        turned.Mutate(x => x.Rotate(RotateMode.Rotate180));
        Assert.InRange(MeanDifference(turned, reference), 30, 255);
    }

    [Fact]
    public async Task A_small_image_is_never_upscaled_and_each_variant_has_its_size()
    {
        using var image = TestImages.Gradient(300, 150);
        var uploadId = Guid.NewGuid();

        var variants = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, TestImages.Jpeg(image, JpegColorType.YCbCrRatio420), "jpg"));

        Assert.Equal([(200, 100), (300, 150), (300, 150)], variants.Select(v => (v.Width, v.Height)));
    }

    [Fact]
    public async Task The_variants_and_their_sizes_come_from_configuration()
    {
        var writer = CreateWriter(new ImageOptions { Variants = new() { ["small"] = 64, ["large"] = 1000 } });
        var uploadId = Guid.NewGuid();

        var variants = await writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, Corpus.Path("kite-2560x1600.jpg")));

        Assert.Equal([("small", 64, 40), ("large", 1000, 625)], variants.Select(v => (v.Name, v.Width, v.Height)));
        Assert.Equal(["large.jpg", "small.jpg"], Directory.GetFiles(_storage.VariantFolder(uploadId)).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task Existing_variants_are_found_as_written_and_not_when_one_is_missing()
    {
        var uploadId = Guid.NewGuid();
        Assert.Null(await _writer.FindExistingAsync(uploadId));

        var written = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, Corpus.Path("leaf-2560x1600.jpg")));

        Assert.Equal(written, await _writer.FindExistingAsync(uploadId));
        File.Delete(_storage.VariantPath(written[0].Key));
        Assert.Null(await _writer.FindExistingAsync(uploadId));
    }

    public void Dispose() => _storage.Dispose();

    private VariantWriter CreateWriter(ImageOptions options)
    {
        options.Engine = _engine;
        return new(Options.Create(options), _storage.Store);
    }

    private static (int Width, int Height) UprightSize(string path)
    {
        var info = Image.Identify(path);
        var orientation = info.Metadata.ExifProfile?.GetValue(ExifTag.Orientation)?.Value ?? 1;
        return orientation >= 5 ? (info.Height, info.Width) : (info.Width, info.Height);
    }

    private static void AssertNoPersonalMetadata(Image written, byte[] bytes)
    {
        Assert.Null(written.Metadata.ExifProfile);
        Assert.Null(written.Metadata.XmpProfile);
        Assert.Null(written.Metadata.IptcProfile);
        var text = Encoding.Latin1.GetString(bytes);
        Assert.DoesNotContain("Exif\0\0", text, StringComparison.Ordinal);
        Assert.DoesNotContain("http://ns.adobe.com/xap/1.0/", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Photoshop 3.0", text, StringComparison.Ordinal);
    }
}

public sealed class ImageSharpVariantWriterTests() : VariantWriterTests(ImageEngineKind.ImageSharp);

public sealed class LibVipsVariantWriterTests() : VariantWriterTests(ImageEngineKind.LibVips);
