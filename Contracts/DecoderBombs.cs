using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace Reference.Contracts;

/// <summary>
/// Small files that explode inside ImageSharp 2.1 before the pixel-count guard sees them, found
/// by walking the file's structure without decoding it. UploadApi checks at intake and the worker
/// again before it decodes, with the same limits:
/// <list type="bullet">
/// <item>PNG: a compressed text or colour-profile chunk (<c>zTXt</c>, <c>iTXt</c>, <c>iCCP</c>) that
/// inflates past <see cref="MaxInflatedMetadataBytes"/>; ImageSharp inflates each whole, even to identify the image.</item>
/// <item>JPEG: more than <see cref="MaxJpegScans"/> scans; a progressive decoder passes over every
/// coefficient once per scan.</item>
/// </list>
/// </summary>
public static class DecoderBombs
{
    /// <summary>All compressed metadata of one PNG together, inflated (an ICC profile or XMP is at most a few hundred KB).</summary>
    public const int MaxInflatedMetadataBytes = 4 * 1024 * 1024;

    /// <summary>A progressive JPEG has about ten scans; libjpeg-turbo's own safety limit suggests a hundred or so.</summary>
    public const int MaxJpegScans = 200;

    private const int ScanChunkBytes = 64 * 1024;

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>What makes the file a decoder bomb, for people, or null when nothing does.</summary>
    public static string? Find(Stream image)
    {
        Span<byte> signature = stackalloc byte[8];
        image.Position = 0;
        if (image.ReadAtLeast(signature, 8, throwOnEndOfStream: false) < 8)
        {
            return null;
        }

        image.Position = 0;
        if (signature.SequenceEqual(PngSignature))
        {
            return FindInPng(image);
        }

        return signature[0] == 0xFF && signature[1] == 0xD8 ? FindInJpeg(image) : null;
    }

    public static string? Find(byte[] image)
    {
        using var stream = new MemoryStream(image, writable: false);
        return Find(stream);
    }

    private static string? FindInPng(Stream png)
    {
        Span<byte> header = stackalloc byte[8];
        long inflated = 0;
        png.Position = 8;
        while (png.ReadAtLeast(header, 8, throwOnEndOfStream: false) == 8)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(header);
            var type = System.Text.Encoding.ASCII.GetString(header[4..8]);
            var dataStart = png.Position;
            if (length > png.Length - dataStart)
            {
                return null; // truncated or lying: the decoder refuses it on its own
            }

            if (type is "zTXt" or "iTXt" or "iCCP")
            {
                var data = new byte[length];
                png.ReadExactly(data);
                var compressed = CompressedPart(type, data);
                if (compressed >= 0)
                {
                    inflated += InflatedLength(data.AsMemory(compressed), MaxInflatedMetadataBytes - inflated + 1);
                    if (inflated > MaxInflatedMetadataBytes)
                    {
                        return $"The PNG's compressed metadata ({type} chunk) inflates past {MaxInflatedMetadataBytes / (1024 * 1024)} MB: a decompression bomb.";
                    }
                }
            }

            if (type == "IEND")
            {
                return null;
            }

            png.Position = dataStart + length + 4; // data and CRC
        }

        return null;
    }

    /// <summary>Where the zlib stream starts inside the chunk's data, or -1 when it holds none.</summary>
    private static int CompressedPart(string type, byte[] data)
    {
        var keywordEnd = Array.IndexOf(data, (byte)0);
        if (keywordEnd < 0)
        {
            return -1;
        }

        if (type != "iTXt")
        {
            return keywordEnd + 2; // keyword, NUL, compression method
        }

        // keyword, NUL, compression flag, compression method, language tag, NUL, translated keyword, NUL, text
        if (keywordEnd + 2 >= data.Length || data[keywordEnd + 1] == 0)
        {
            return -1; // not compressed
        }

        var languageEnd = Array.IndexOf(data, (byte)0, keywordEnd + 3);
        var translatedEnd = languageEnd < 0 ? -1 : Array.IndexOf(data, (byte)0, languageEnd + 1);
        return translatedEnd < 0 ? -1 : translatedEnd + 1;
    }

    /// <summary>Inflates into a scratch buffer, counting, and stops once past <paramref name="limit"/>.</summary>
    private static long InflatedLength(ReadOnlyMemory<byte> zlib, long limit)
    {
        var scratch = new byte[64 * 1024];
        long total = 0;
        try
        {
            using var inflater = new ZLibStream(new MemoryStream(zlib.ToArray(), writable: false), CompressionMode.Decompress);
            int read;
            while (total < limit && (read = inflater.Read(scratch)) > 0)
            {
                total += read;
            }
        }
        catch (InvalidDataException)
        {
            // Corrupt metadata: what inflated so far counts, the decoder deals with the rest.
        }

        return total;
    }

    private static string? FindInJpeg(Stream jpeg)
    {
        // Chunks searched with a vectorized IndexOf: byte by byte through the stream, the corpus JPEGs took
        // 1.1–13.9 ms each from a file (UploadApi) and 0.6–7.4 ms from memory (the worker); now 0.03–0.54 ms.
        var buffer = ArrayPool<byte>.Shared.Rent(ScanChunkBytes);
        try
        {
            var scans = 0;
            long chunkStart = 0, position = 2;
            var chunkLength = 0;
            var afterFF = false;
            // Outside a scan, segments are walked by their lengths; inside one, markers are found by their 0xFF.
            while (true)
            {
                if (position < chunkStart || position >= chunkStart + chunkLength)
                {
                    jpeg.Position = chunkStart = position;
                    chunkLength = jpeg.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                    if (chunkLength == 0)
                    {
                        return null;
                    }
                }

                var rest = buffer.AsSpan((int)(position - chunkStart), chunkLength - (int)(position - chunkStart));
                if (!afterFF)
                {
                    var ff = rest.IndexOf((byte)0xFF);
                    afterFF = ff >= 0;
                    position += afterFF ? ff + 1 : rest.Length;
                    continue;
                }

                var marker = rest[0];
                position++;
                if (marker == 0xFF)
                {
                    continue; // a fill byte: the marker follows
                }

                afterFF = false;
                if (marker is 0x00 or 0x01 or (>= 0xD0 and <= 0xD7))
                {
                    continue; // a stuffed 0xFF in the scan data, or a marker without a length
                }

                if (marker == 0xD9)
                {
                    return null; // end of image
                }

                if (ReadSegmentLength(jpeg, buffer.AsSpan(0, chunkLength), chunkStart, position) is not { } length)
                {
                    return null;
                }

                if (marker == 0xDA && ++scans > MaxJpegScans)
                {
                    return $"The JPEG has more than {MaxJpegScans} scans: each makes the decoder pass over the whole image again.";
                }

                // Skip the segment's body; after an SOS header the entropy-coded data is searched for markers.
                position += 2 + Math.Max(0, length - 2);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The two bytes at <paramref name="position"/>, from the chunk when it holds both, else from the stream.</summary>
    private static int? ReadSegmentLength(Stream jpeg, ReadOnlySpan<byte> chunk, long chunkStart, long position)
    {
        if (position + 2 <= chunkStart + chunk.Length)
        {
            return BinaryPrimitives.ReadUInt16BigEndian(chunk[(int)(position - chunkStart)..]);
        }

        Span<byte> lengthBytes = stackalloc byte[2];
        jpeg.Position = position;
        return jpeg.ReadAtLeast(lengthBytes, 2, throwOnEndOfStream: false) < 2 ? null : BinaryPrimitives.ReadUInt16BigEndian(lengthBytes);
    }
}
