namespace Reference.Contracts;

/// <summary>
/// What an uploaded image may be. UploadApi refuses a file over these (413, 422), the worker checks
/// the pixels again before decoding, and the gateway lets an upload's body through up to
/// <see cref="UploadBodyBytes"/>. <c>Uploads:MaxBytes</c> overrides <see cref="MaxBytes"/> in both.
/// </summary>
public static class ImageLimits
{
    public const string MaxBytesSetting = "Uploads:MaxBytes";

    /// <summary>Largest accepted file.</summary>
    public const long MaxBytes = 25 * 1024 * 1024;

    /// <summary>Pixel-flood guard: largest width × height.</summary>
    public const long MaxPixels = 50_000_000;

    /// <summary>Pixel-flood guard: longest side.</summary>
    public const int MaxSide = 12_000;

    /// <summary>Room for the multipart boundaries, part headers and the productId field around the file.</summary>
    public const long FormOverheadBytes = 64 * 1024;

    /// <summary>The whole multipart body of an upload whose file may have <paramref name="maxFileBytes"/>.</summary>
    public static long UploadBodyBytes(long maxFileBytes) => maxFileBytes + FormOverheadBytes;
}
