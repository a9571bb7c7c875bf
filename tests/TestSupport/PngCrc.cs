namespace Reference.Tests.Support;

/// <summary>The CRC-32 a PNG chunk ends with, over its type and data, for tests that build PNGs byte by byte.</summary>
public static class PngCrc
{
    public static uint Of(ReadOnlySpan<byte> typeAndData)
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
