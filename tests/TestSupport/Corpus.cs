using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.Processing;

namespace Reference.Tests.Support;

/// <summary>
/// The test photos: real images from Debian packages that <c>tests/corpus/fetch.sh</c> puts in
/// <c>tests/corpus/images</c> (listed in <c>corpus.tsv</c>), plus the cases made from them in code.
/// </summary>
public static class Corpus
{
    /// <summary>The kite stored portrait with EXIF Orientation 6, a GPS position and camera tags.</summary>
    public const string RotatedWithGps = "kite-orient6-gps.jpg";

    public static string ImagesDirectory { get; } = System.IO.Path.Combine(RepoPaths.Root, "tests", "corpus", "images");

    private static readonly Lazy<IReadOnlyList<string>> Fetched = new(ReadManifest);
    private static readonly Lazy<string> RotatedPhoto = new(MakeRotatedWithGps);

    public static string Path(string fileName) =>
        fileName == RotatedWithGps ? RotatedPhoto.Value : Existing(System.IO.Path.Combine(ImagesDirectory, fileName));

    /// <summary>Every photo: the fetched ones and the ones made from them, by name.</summary>
    public static IReadOnlyList<string> AllImages() =>
        Fetched.Value.Append(RotatedWithGps).Order(StringComparer.Ordinal).Select(Path).ToList();

    private static string Existing(string path) => File.Exists(path)
        ? path
        : throw new FileNotFoundException(
            $"{path} is missing: run tests/corpus/fetch.sh (./dev.sh test runs it) to fetch the test photos.", path);

    private static IReadOnlyList<string> ReadManifest() =>
        File.ReadLines(System.IO.Path.Combine(RepoPaths.Root, "tests", "corpus", "corpus.tsv"))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('\t')[0])
            .ToList();

    private static string MakeRotatedWithGps()
    {
        var target = System.IO.Path.Combine(ImagesDirectory, RotatedWithGps);
        if (File.Exists(target))
        {
            return target;
        }

        using var image = Image.Load(Path("kite-2560x1600.jpg"));
        // Stored turned 90° counter-clockwise; Orientation 6 tells a viewer to turn it back clockwise.
        image.Mutate(x => x.Rotate(RotateMode.Rotate270));
        var exif = new ExifProfile();
        exif.SetValue(ExifTag.Orientation, (ushort)6);
        exif.SetValue(ExifTag.Make, "ExampleCam");
        exif.SetValue(ExifTag.Model, "Corpus Model 1");
        exif.SetValue(ExifTag.GPSLatitudeRef, "N");
        exif.SetValue(ExifTag.GPSLatitude, [new Rational(56, 1), new Rational(9, 1), new Rational(1234, 100)]);
        exif.SetValue(ExifTag.GPSLongitudeRef, "E");
        exif.SetValue(ExifTag.GPSLongitude, [new Rational(10, 1), new Rational(12, 1), new Rational(5678, 100)]);
        image.Metadata.ExifProfile = exif;

        // Several test processes may ask at once: write aside, then move into place.
        var temporary = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        image.SaveAsJpeg(temporary);
        File.Move(temporary, target, overwrite: true);
        return target;
    }
}

public static class RepoPaths
{
    /// <summary>The repository root: the nearest folder above the test binaries holding Reference.sln.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Reference.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Reference.sln was not found above " + AppContext.BaseDirectory);
    }
}
