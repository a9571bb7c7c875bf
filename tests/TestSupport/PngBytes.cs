using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Reference.Tests.Support;

/// <summary>PNGs built chunk by chunk, for tests that need a header that lies, a bomb or a broken file.</summary>
public static class PngBytes
{
    public static byte[] Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>A well-formed PNG (signature, IHDR, a tiny IDAT, IEND) whose header claims the given size.</summary>
    public static byte[] Claiming(int width, int height) =>
        File(Chunk("IHDR", Ihdr(width, height)), Chunk("IDAT", ZLib(new byte[16])), Chunk("IEND", []));

    public static byte[] File(params byte[][] chunks) => [.. Signature, .. chunks.SelectMany(c => c)];

    /// <summary>Length, type, data and the CRC over type and data.</summary>
    public static byte[] Chunk(string type, byte[] data)
    {
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        var framed = new byte[8 + typeAndData.Length];
        BinaryPrimitives.WriteInt32BigEndian(framed, data.Length);
        typeAndData.CopyTo(framed, 4);
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(4 + typeAndData.Length), Crc(typeAndData));
        return framed;
    }

    /// <param name="colourType">2 is RGB, 0 greyscale.</param>
    public static byte[] Ihdr(int width, int height, byte bitDepth = 8, byte colourType = 2)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colourType;
        return ihdr; // compression, filter and interlace 0
    }

    public static byte[] ZLib(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            zlib.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>The CRC-32 a chunk ends with, over its type and data.</summary>
    public static uint Crc(ReadOnlySpan<byte> typeAndData)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in typeAndData)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
