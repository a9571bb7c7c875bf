using System.Diagnostics;
using Reference.Contracts;
using Reference.Storage;

namespace Reference.ImageWorker.Pipeline;

/// <summary>
/// The WebP copies of a Ready upload's variants, each beside its variant (<see cref="ImageStorage.WebpCopyKey"/>),
/// encoded by the configured engine from the stored variant. Idempotent: the store writes whole files, so a copy
/// that exists is complete and kept.
/// </summary>
public sealed class WebpCopies(VariantWriter variantWriter, IImageStore store)
{
    /// <summary>Writes the missing copies; stops at a variant that is gone (the image was deleted meanwhile).</summary>
    /// <exception cref="UnprocessableImageException">A stored variant is not an image.</exception>
    public async Task<WebpPass> WriteAsync(IReadOnlyList<ImageVariant> variants, CancellationToken cancellationToken = default)
    {
        var startedAt = Stopwatch.GetTimestamp();
        long variantBytes = 0, webpBytes = 0;
        var written = 0;
        foreach (var variant in variants)
        {
            var copyKey = $"{ImageStorage.VariantsFolder}/{ImageStorage.WebpCopyKey(variant.Key)}";
            if (await store.ExistsAsync(copyKey, cancellationToken))
            {
                continue;
            }

            await using var stored = await store.GetAsync($"{ImageStorage.VariantsFolder}/{variant.Key}", cancellationToken);
            if (stored is null)
            {
                return new WebpPass(written, variantBytes, webpBytes, Stopwatch.GetElapsedTime(startedAt), Deleted: true);
            }

            var bytes = await stored.ReadAllBytesAsync(cancellationToken);
            var webp = variantWriter.Engine.EncodeWebp(bytes);
            using var content = new MemoryStream(webp, writable: false);
            await store.PutAsync(copyKey, content, cancellationToken);
            (written, variantBytes, webpBytes) = (written + 1, variantBytes + bytes.Length, webpBytes + webp.Length);
        }

        return new WebpPass(written, variantBytes, webpBytes, Stopwatch.GetElapsedTime(startedAt), Deleted: false);
    }
}

/// <param name="Written">Copies made by this pass (0 when all existed).</param>
/// <param name="VariantBytes">Bytes of the variants those copies were made from.</param>
/// <param name="WebpBytes">Bytes of the copies made.</param>
/// <param name="Elapsed">The whole pass, reads and writes included.</param>
/// <param name="Deleted">A variant was gone: the image was deleted while its copies were being made.</param>
public sealed record WebpPass(int Written, long VariantBytes, long WebpBytes, TimeSpan Elapsed, bool Deleted);
