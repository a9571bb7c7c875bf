using System.Buffers.Binary;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;

namespace Reference.ImageWorker.Pipeline;

/// <summary>Whether an original ends where its format says: ImageSharp 2.1 decodes a cut-off file as grey.</summary>
internal static class TruncationCheck
{
    public static bool IsComplete(IImageFormat format, ReadOnlySpan<byte> bytes) => format switch
    {
        JpegFormat => JpegHasEndOfImage(bytes),
        PngFormat => PngHasEndChunk(bytes),
        // RIFF: the size after "RIFF" counts every byte after it.
        WebpFormat => bytes.Length >= 8 && bytes.Length - 8L >= BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]),
        _ => false,
    };

    /// <summary>
    /// True when an end-of-image marker follows the start of the scan. Walking the segment headers
    /// skips an EXIF thumbnail's own end marker; trailers after the real end (some cameras add them)
    /// are fine.
    /// </summary>
    private static bool JpegHasEndOfImage(ReadOnlySpan<byte> jpeg)
    {
        var position = 2;
        while (position + 4 <= jpeg.Length && jpeg[position] == 0xFF)
        {
            var marker = jpeg[position + 1];
            if (marker == 0xFF)
            {
                position++;
                continue;
            }

            if (marker == 0xDA)
            {
                return jpeg[position..].IndexOf([(byte)0xFF, (byte)0xD9]) >= 0;
            }

            position += 2 + ((jpeg[position + 2] << 8) | jpeg[position + 3]);
        }

        return false;
    }

    /// <summary>True when the chunks, walked by their lengths, reach IEND inside the file.</summary>
    private static bool PngHasEndChunk(ReadOnlySpan<byte> png)
    {
        long position = 8;
        while (position + 12 <= png.Length)
        {
            var chunk = png[(int)position..];
            if (chunk[4..8].SequenceEqual("IEND"u8))
            {
                return true;
            }

            position += 12L + BinaryPrimitives.ReadUInt32BigEndian(chunk);
        }

        return false;
    }
}
