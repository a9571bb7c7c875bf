using System.Buffers.Binary;
using System.IO.Compression;
using Reference.Tests.Support;
using SixLabors.ImageSharp;

namespace Reference.Reliability.Tests.Support;

public static partial class HostileFiles
{
    /// <summary>
    /// A decompression bomb: a real grey PNG of <paramref name="side"/>² black pixels, a few
    /// kilobytes on the wire per megapixel decoded.
    /// </summary>
    public static byte[] PngBomb(int side)
    {
        using var raw = new MemoryStream();
        using (var zlib = new ZLibStream(raw, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[side + 1]; // filter byte 0, then black pixels
            for (var y = 0; y < side; y++)
            {
                zlib.Write(row);
            }
        }

        var ihdr = PngBytes.Ihdr(side, side);
        ihdr[9] = 0; // grey
        return PngBytes.File(PngBytes.Chunk("IHDR", ihdr), PngBytes.Chunk("IDAT", raw.ToArray()), PngBytes.Chunk("IEND", []));
    }

    /// <summary>
    /// A valid 64×64 PNG carrying one compressed metadata chunk (zTXt, iTXt or iCCP) of
    /// <paramref name="inflatedBytes"/> zeros. Deflate packs zeros about 1000:1, so 520 MB of text
    /// travels in about 500 KB; ImageSharp 2.1 inflates it whole even to identify the image.
    /// </summary>
    public static byte[] PngWithCompressedChunk(string type, long inflatedBytes, int copies = 1)
    {
        using var packed = new MemoryStream();
        using (var zlib = new ZLibStream(packed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var zeros = new byte[1024 * 1024];
            for (var left = inflatedBytes; left > 0; left -= zeros.Length)
            {
                zlib.Write(zeros, 0, (int)Math.Min(zeros.Length, left));
            }
        }

        byte[] data = type switch
        {
            "zTXt" => [.. "Comment"u8.ToArray(), 0, 0, .. packed.ToArray()],
            "iCCP" => [.. "ICC profile"u8.ToArray(), 0, 0, .. packed.ToArray()],
            // keyword, NUL, compressed, method, language, NUL, translated keyword, NUL, text
            "iTXt" => [.. "XML:com.adobe.xmp"u8.ToArray(), 0, 1, 0, .. "en"u8.ToArray(), 0, 0, .. packed.ToArray()],
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
        return WithChunksAfterHeader(SmallPng, Enumerable.Repeat(PngBytes.Chunk(type, data), copies).ToArray());
    }

    /// <summary>A valid 64×64 PNG with a caption in an uncompressed iTXt chunk (ordinary metadata).</summary>
    public static byte[] PngWithPlainText() =>
        WithChunksAfterHeader(SmallPng, PngBytes.Chunk("iTXt", [.. "Title"u8.ToArray(), 0, 0, 0, 0, 0, .. "A product photo"u8.ToArray()]));

    /// <summary>A valid 8×8 JPEG whose scan is repeated <paramref name="scans"/> times before its end marker.</summary>
    public static byte[] JpegWithScans(int scans)
    {
        var jpeg = Encode(8, 8, (image, stream) => image.SaveAsJpeg(stream));
        var sos = SegmentOffset(jpeg, 0xDA);
        var scan = jpeg[sos..^2]; // from the SOS marker to just before EOI
        return [.. jpeg[..sos], .. Enumerable.Repeat(scan, scans).SelectMany(s => s), 0xFF, 0xD9];
    }

    private static byte[] WithChunksAfterHeader(byte[] png, params byte[][] chunks)
    {
        var afterIhdr = 8 + 12 + BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(8));
        return [.. png[..afterIhdr], .. chunks.SelectMany(c => c), .. png[afterIhdr..]];
    }

    private static int SegmentOffset(byte[] jpeg, byte marker)
    {
        for (var i = 2; i + 4 < jpeg.Length; i += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(i + 2)))
        {
            if (jpeg[i + 1] == marker)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"no marker {marker:X2}");
    }

    private static byte[] FrameControl(int sequence, int width, int height) =>
        [.. BigEndian(sequence), .. BigEndian(width), .. BigEndian(height), .. BigEndian(0), .. BigEndian(0), 0, 10, 0, 100, 0, 0];
}
