using Reference.Contracts;
using Reference.Tests.Support;

namespace Reference.ImageWorker.Tests.Pipeline;

/// <summary>
/// The JPEG scan count is found in 64 KB chunks (UploadApi reads a file, the worker a byte array): a marker
/// split across two chunks must count like any other, and bytes inside a segment must never count.
/// </summary>
public sealed class DecoderBombsTests
{
    private const int FirstChunkEnd = 2 + (64 * 1024);

    [Fact]
    public void No_photo_of_the_corpus_is_taken_for_a_bomb_from_a_file_or_from_memory()
    {
        foreach (var photo in Corpus.AllImages())
        {
            using (var file = new FileStream(photo, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, useAsync: true))
            {
                Assert.Null(DecoderBombs.Find(file));
            }

            Assert.Null(DecoderBombs.Find(File.ReadAllBytes(photo)));
        }
    }

    /// <summary>
    /// The first scan's 0xFF sits 1, 2, 3 or 4 bytes before the first chunk's end (the walk starts after SOI, so the
    /// chunk ends at 64 KB + 2): the marker, its length, or part of it in the next chunk.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Scans_split_across_chunks_are_counted_to_the_limit_and_no_further(int bytesBeforeChunkEnd)
    {
        var atLimit = JpegWithScans(DecoderBombs.MaxJpegScans, bytesBeforeChunkEnd);
        var pastLimit = JpegWithScans(DecoderBombs.MaxJpegScans + 1, bytesBeforeChunkEnd);
        Assert.Equal(0xFF, atLimit[FirstChunkEnd - bytesBeforeChunkEnd]);
        Assert.Equal(0xDA, atLimit[FirstChunkEnd - bytesBeforeChunkEnd + 1]);

        Assert.Null(DecoderBombs.Find(atLimit));
        Assert.Contains("more than 200 scans", DecoderBombs.Find(pastLimit));
        using var stream = new MemoryStream(pastLimit);
        Assert.Contains("more than 200 scans", DecoderBombs.Find(stream));
    }

    /// <summary>
    /// SOI, then an APP1 segment full of 0xFF 0xDA (which a byte-by-byte search would take for scans) sized so the
    /// first scan starts <paramref name="bytesBeforeChunkEnd"/> bytes before the first chunk's end, then the scans, each with
    /// stuffed bytes and a restart marker in its data, then EOI.
    /// </summary>
    private static byte[] JpegWithScans(int scans, int bytesBeforeChunkEnd)
    {
        var appLength = FirstChunkEnd - bytesBeforeChunkEnd - 4; // SOI (2) and the APP1 marker (2) come before it
        var app = new byte[appLength];
        for (var i = 2; i < appLength; i++)
        {
            app[i] = i % 2 == 0 ? (byte)0xFF : (byte)0xDA;
        }

        app[0] = (byte)(appLength >> 8);
        app[1] = (byte)appLength;
        byte[] scan = [0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, .. Enumerable.Repeat<byte[]>([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3], 100).SelectMany(b => b)];
        return [0xFF, 0xD8, 0xFF, 0xE1, .. app, .. Enumerable.Repeat(scan, scans).SelectMany(s => s), 0xFF, 0xD9];
    }
}
