using System.IO.Compression;
using System.Text;
using Reference.Tests.Support;

namespace Reference.UploadApi.Tests.Infrastructure;

/// <summary>Good photos from the corpus and hostile files made on the spot.</summary>
public static class TestImages
{
    public static string GoodJpeg => Corpus.Path("kite-orient6-gps.jpg");

    public static string GoodPng => Corpus.Path("elarun-2560x1600.png");

    public static string GoodWebp => Corpus.Path("wood.webp");

    /// <summary>Over the tests' 2 MB limit.</summary>
    public static string LargeJpeg => Corpus.Path("landing-5120x2880.jpg");

    public static byte[] PngClaiming(int width, int height) => PngBytes.Claiming(width, height);

    /// <summary>
    /// A real, fully decodable PNG of <paramref name="side"/>×<paramref name="side"/> black pixels
    /// (1-bit greyscale: one colour compresses to a few kilobytes even at 20000×20000).
    /// </summary>
    public static string WriteSolidPng(string path, int side)
    {
        using var file = File.Create(path);
        file.Write(PngBytes.Signature);
        file.Write(PngBytes.Chunk("IHDR", PngBytes.Ihdr(side, side, bitDepth: 1, colourType: 0)));
        using (var data = new MemoryStream())
        {
            using (var zlib = new ZLibStream(data, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                var row = new byte[1 + (side + 7) / 8]; // filter byte "none", then the pixels
                for (var y = 0; y < side; y++)
                {
                    zlib.Write(row);
                }
            }

            file.Write(PngBytes.Chunk("IDAT", data.ToArray()));
        }

        file.Write(PngBytes.Chunk("IEND", []));
        return path;
    }

    public static byte[] Text => Encoding.UTF8.GetBytes("These are my holiday notes, not a photo.\n");

    public static byte[] Html => Encoding.UTF8.GetBytes("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>");

    public static byte[] Svg => Encoding.UTF8.GetBytes(
        "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>");

    /// <summary>The first <paramref name="bytes"/> bytes of the good JPEG.</summary>
    public static byte[] TruncatedJpeg(int bytes) => File.ReadAllBytes(GoodJpeg)[..bytes];
}
