namespace Reference.ImageWorker.Pipeline;

/// <summary>
/// The original can never be turned into variants (corrupt, not an image we take, too large).
/// Retrying cannot help, so the consumer reports it as <c>ImageProcessingFailed</c> with
/// <see cref="Exception.Message"/> as the reason people read.
/// </summary>
public sealed class UnprocessableImageException(string reason, Exception? inner = null) : Exception(reason, inner);
