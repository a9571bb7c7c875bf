using System.Security.Cryptography;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace Reference.InventoryApi.Apis;

/// <summary>
/// A product's ETag is its version and its stock figures: <c>"7.120.3"</c> (on-hand 120, reserved 3).
/// Shoppers' holds change the stock but not the version, so the tag changes with either while
/// If-Match checks the version alone: a hold made while an admin edits does not fail the edit.
/// Lists get one derived from what they contain.
/// </summary>
internal static class ETags
{
    public static string ForVersion(int version) => $"\"{version}\"";

    public static string For(ProductResponse product) =>
        $"\"{product.Version}.{product.Stock.OnHand}.{product.Stock.Reserved}\"";

    /// <summary>Derived from the items' ids and versions, so every replica gives the same page the same tag.</summary>
    public static string ForPage(ProductPage page)
    {
        var identity = new StringBuilder().Append(page.Total).Append('|');
        foreach (var item in page.Items)
        {
            identity.Append(item.Id.ToString("N")).Append(':').Append(item.Version)
                .Append(':').Append(item.Stock.OnHand).Append(':').Append(item.Stock.Reserved).Append(',');
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(identity.ToString()));
        return $"W/\"{Convert.ToHexStringLower(hash.AsSpan(0, 12))}\"";
    }

    /// <summary>True when the client's copy is current (If-None-Match names <paramref name="etag"/> or is *).</summary>
    public static bool ClientHasCurrent(HttpRequest request, string etag)
    {
        if (!EntityTagHeaderValue.TryParseList(request.Headers.IfNoneMatch, out var tags))
        {
            return false;
        }

        var current = EntityTagHeaderValue.Parse(etag);
        // Weak comparison, as RFC 9110 asks for If-None-Match.
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(current, useStrongComparison: false));
    }

    /// <summary>
    /// The version If-Match asks for: null when the header is absent, -1 for <c>*</c>,
    /// <see cref="int.MinValue"/> when it names nothing this service ever issued.
    /// </summary>
    public static int? IfMatchVersion(HttpRequest request)
    {
        if (request.Headers.IfMatch.Count == 0)
        {
            return null;
        }

        if (!EntityTagHeaderValue.TryParseList(request.Headers.IfMatch, out var tags) || tags.Count != 1)
        {
            return int.MinValue;
        }

        var tag = tags[0];
        if (tag.Equals(EntityTagHeaderValue.Any))
        {
            return -1;
        }

        // "7" (a bare version) or "7.120.3" (as For gives): the version is what precedes the first dot.
        var value = tag.Tag.AsSpan(1, tag.Tag.Length - 2);
        var dot = value.IndexOf('.');
        return !tag.IsWeak && int.TryParse(dot < 0 ? value : value[..dot], out var version) ? version : int.MinValue;
    }
}
