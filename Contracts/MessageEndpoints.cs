namespace Reference.Contracts;

/// <summary>RabbitMQ names that more than one service must spell the same.</summary>
public static class MessageEndpoints
{
    /// <summary>MassTransit's exchange for <see cref="ImageUploaded"/>: its namespace and name.</summary>
    public static readonly string ImageUploadedExchange = $"{typeof(ImageUploaded).Namespace}:{nameof(ImageUploaded)}";

    /// <summary>
    /// The workers' queue, shared by every replica. UploadApi declares it at start too, so an upload
    /// published before the first worker ever ran is not dropped.
    /// </summary>
    public const string ImageUploadedQueue = "image-uploaded";

    /// <summary>
    /// The workers' second queue, bound to <see cref="ImageProcessed"/>: WebP copies of a Ready upload's variants,
    /// made after Ready so they never delay it.
    /// </summary>
    public const string WebpVariantsQueue = "image-webp";
}
