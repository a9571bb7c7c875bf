namespace Reference.ImageWorker.Pipeline;

/// <summary>
/// The original can never be turned into variants (corrupt, not an image we take, too large).
/// Retrying cannot help, so the consumer reports it as <c>ImageProcessingFailed</c> with
/// <see cref="Exception.Message"/> as the reason people read.
/// </summary>
public sealed class UnprocessableImageException(string reason, Exception? inner = null) : Exception(reason, inner)
{
    // The reasons every engine gives, so a failure reads the same whichever engine met it.
    public const string NotAnImage = "The file is not a JPEG, PNG or WebP image.";
    public const string Corrupt = "The image is corrupt or uses an encoding that cannot be read.";
    public const string TooLargeForMemory = "The image needs more memory than one image may use.";
}
