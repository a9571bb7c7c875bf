using System.Buffers.Binary;
using System.Text;
using Reference.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace Reference.Reliability.Tests.Support;

/// <summary>Malformed and malicious image files, made byte by byte.</summary>
public static partial class HostileFiles
{
    public static byte[] Jpeg { get; } = File.ReadAllBytes(Corpus.Path("leaf-2560x1600.jpg"));

    /// <summary>A PNG whose header declares <paramref name="width"/>×<paramref name="height"/> with one row of data.</summary>
    public static byte[] PngClaiming(int width, int height) => PngBytes.Claiming(width, height);

    /// <summary>A JPEG whose frame header (SOF) is patched to claim <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static byte[] JpegClaiming(int width, int height)
    {
        var bytes = (byte[])Jpeg.Clone();
        var sof = FrameHeaderOffset(bytes);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(sof + 7), (ushort)width);
        return bytes;
    }

    /// <summary>The offset of the frame header (SOF0–SOF2) of the image itself, walking the segments (not an EXIF thumbnail's).</summary>
    public static int FrameHeaderOffset(byte[] jpeg)
    {
        for (var i = 2; i + 4 < jpeg.Length;)
        {
            if (jpeg[i] != 0xFF)
            {
                throw new InvalidOperationException($"not at a marker at {i}");
            }

            var marker = jpeg[i + 1];
            if (marker is 0xC0 or 0xC1 or 0xC2)
            {
                return i;
            }

            i += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(i + 2));
        }

        throw new InvalidOperationException("no frame header");
    }

    public static byte[] Truncated(byte[] file, int length) => file[..length];

    /// <summary>The middle third of the entropy-coded data overwritten with noise.</summary>
    public static byte[] CorruptedMiddle(byte[] file)
    {
        var bytes = (byte[])file.Clone();
        new Random(7).NextBytes(bytes.AsSpan(bytes.Length / 3, bytes.Length / 3));
        return bytes;
    }

    /// <summary>
    /// An animated PNG (APNG): two frames, the first also the default image that every PNG
    /// decoder that ignores animation shows.
    /// </summary>
    public static byte[] AnimatedPng()
    {
        var still = Encode(64, 48, (image, stream) => image.SaveAsPng(stream, new PngEncoder { ColorType = PngColorType.Rgb }));
        var chunks = ReadChunks(still);
        var idat = chunks.Where(c => c.Type == "IDAT").SelectMany(c => c.Data).ToArray();
        var output = new List<byte[]> { PngBytes.Chunk("IHDR", chunks.First(c => c.Type == "IHDR").Data) };
        output.Add(PngBytes.Chunk("acTL", [.. BigEndian(2), .. BigEndian(0)]));
        output.Add(PngBytes.Chunk("fcTL", FrameControl(0, 64, 48)));
        output.Add(PngBytes.Chunk("IDAT", idat));
        output.Add(PngBytes.Chunk("fcTL", FrameControl(1, 64, 48)));
        output.Add(PngBytes.Chunk("fdAT", [.. BigEndian(2), .. idat]));
        output.Add(PngBytes.Chunk("IEND", []));
        return PngBytes.File([.. output]);
    }

    /// <summary>An animated WebP: VP8X with the animation flag, ANIM, two ANMF frames of lossless data.</summary>
    public static byte[] AnimatedWebp()
    {
        var still = Encode(64, 48, (image, stream) => image.SaveAsWebp(stream, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless }));
        // RIFF, size, WEBP, then the VP8L chunk (header and payload).
        var vp8l = still[12..];
        var frame = new List<byte>();
        frame.AddRange(Uint24(0));
        frame.AddRange(Uint24(0));
        frame.AddRange(Uint24(63));
        frame.AddRange(Uint24(47));
        frame.AddRange(Uint24(100));
        frame.Add(0);
        frame.AddRange(vp8l);
        var body = new List<byte>();
        body.AddRange("WEBP"u8.ToArray());
        body.AddRange(RiffChunk("VP8X", [0x02, 0, 0, 0, .. Uint24(63), .. Uint24(47)]));
        body.AddRange(RiffChunk("ANIM", [0, 0, 0, 0, 0, 0]));
        body.AddRange(RiffChunk("ANMF", [.. frame]));
        body.AddRange(RiffChunk("ANMF", [.. frame]));
        return [.. "RIFF"u8.ToArray(), .. LittleEndian(body.Count), .. body];
    }

    /// <summary>A WebP whose extended header declares a <paramref name="side"/>² canvas over a tiny real image.</summary>
    public static byte[] WebpClaiming(int side)
    {
        var still = Encode(8, 8, (image, stream) => image.SaveAsWebp(stream, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless }));
        var body = new List<byte>();
        body.AddRange("WEBP"u8.ToArray());
        body.AddRange(RiffChunk("VP8X", [0, 0, 0, 0, .. Uint24(side - 1), .. Uint24(side - 1)]));
        body.AddRange(still[12..]);
        return [.. "RIFF"u8.ToArray(), .. LittleEndian(body.Count), .. body];
    }

    public static byte[] Gif { get; } = Convert.FromBase64String("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==");

    public static byte[] Bmp { get; } = [.. "BM"u8.ToArray(), .. new byte[60]];

    public static byte[] Tiff { get; } = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0, 0, 0, 0];

    public static byte[] Pdf { get; } = Encoding.ASCII.GetBytes("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF");

    /// <summary>A PNG signature followed by noise.</summary>
    public static byte[] PngSignatureThenNoise()
    {
        var bytes = new byte[4096];
        new Random(3).NextBytes(bytes);
        new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(bytes, 0);
        return bytes;
    }

    private static byte[] SmallPng { get; } = Encode(64, 64, (image, stream) => image.SaveAsPng(stream));

    private static byte[] Encode(int width, int height, Action<Image<Rgb24>, Stream> save)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(200, 60, 30));
        using var stream = new MemoryStream();
        save(image, stream);
        return stream.ToArray();
    }

    private static List<(string Type, byte[] Data)> ReadChunks(byte[] png)
    {
        var chunks = new List<(string, byte[])>();
        for (var i = 8; i < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(i));
            chunks.Add((Encoding.ASCII.GetString(png, i + 4, 4), png[(i + 8)..(i + 8 + length)]));
            i += 12 + length;
        }

        return chunks;
    }

    private static byte[] RiffChunk(string type, byte[] data) =>
        [.. Encoding.ASCII.GetBytes(type), .. LittleEndian(data.Length), .. data, .. (data.Length % 2 == 1 ? new byte[] { 0 } : [])];

    private static byte[] BigEndian(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] LittleEndian(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Uint24(int value) => [(byte)value, (byte)(value >> 8), (byte)(value >> 16)];
}
