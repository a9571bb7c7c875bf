using Microsoft.Net.Http.Headers;
using Reference.Contracts;

namespace Reference.Gateway.Images;

/// <summary>
/// Content negotiation on a variant's URL: a browser that accepts <c>image/webp</c> gets the variant's WebP copy
/// (<see cref="ImageStorage.WebpCopyKey"/>) when the worker's background pass has made it, every other one the
/// JPEG/PNG. One URL per image keeps the pages simple and lets caches hold both, told apart by <c>Vary: Accept</c>.
/// </summary>
public static class WebpNegotiation
{
    /// <summary>Until the copy exists a WebP browser gets the JPEG, but not for a year: it asks again in a minute.</summary>
    public const string UntilCopyExistsCaching = "public, max-age=60";

    /// <summary>The WebP copy's name for a <c>{uploadId}/{variant}.jpg|.png</c> asked by a browser that accepts WebP; else null.</summary>
    /// <param name="request">The image request (its Accept header).</param>
    /// <param name="variantName">The variant asked for, as <c>{uploadId}/{file}</c>.</param>
    public static string? CopyFor(HttpRequest request, string variantName) =>
        (variantName.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || variantName.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        && AcceptsWebp(request)
            ? ImageStorage.WebpCopyKey(variantName)
            : null;

    /// <summary>Only an explicit <c>image/webp</c> without q=0: <c>image/*</c> and <c>*/*</c> come from browsers that may not show it.</summary>
    private static bool AcceptsWebp(HttpRequest request)
    {
        foreach (var accept in request.Headers.Accept)
        {
            // Most requests are decided by a plain substring test before any parsing.
            if (accept is null || !accept.Contains("image/webp", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (MediaTypeHeaderValue.TryParseList([accept], out var types)
                && types.Any(t => t.MediaType.Equals("image/webp", StringComparison.OrdinalIgnoreCase) && t.Quality is not 0))
            {
                return true;
            }
        }

        return false;
    }
}
