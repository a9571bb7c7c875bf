namespace Reference.Contracts;

/// <summary>
/// The <c>Storage</c> section: the image store UploadApi, the workers and the gateway share (a folder,
/// or a bucket with <c>Storage:Kind=S3</c>: Storage/IImageStore.cs). UploadApi writes <c>originals/</c>,
/// the workers write <c>variants/</c>, the gateway serves only <c>variants/</c> (originals may carry GPS EXIF).
/// </summary>
public sealed class ImageStorage
{
    public const string Section = "Storage";
    public const string OriginalsFolder = "originals";
    public const string VariantsFolder = "variants";

    public string Root { get; set; } = "";

    /// <summary>An original's storage key (a path under the root, or an object key).</summary>
    public static string OriginalKey(Guid uploadId, string extension) => $"{OriginalsFolder}/{uploadId}.{extension}";

    /// <summary>
    /// The folder of an upload's variants, relative to the root. The upload id is the image's version:
    /// a new or replacing image is a new upload, so a URL under it never changes bytes and may be cached
    /// as immutable; a deleted image's folder is removed and its id never used again.
    /// </summary>
    public static string VariantFolderKey(Guid uploadId) => $"{VariantsFolder}/{uploadId}";

    /// <summary>
    /// The key of a variant's WebP copy, beside it (<c>{uploadId}/card.jpg</c> → <c>{uploadId}/card.webp</c>): the gateway
    /// serves it for the variant's URL to a browser that accepts WebP, once it exists.
    /// </summary>
    public static string WebpCopyKey(string variantKey) => Path.ChangeExtension(variantKey, ".webp");
}
