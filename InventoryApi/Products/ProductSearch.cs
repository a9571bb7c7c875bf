using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Products;

/// <summary>
/// The storefront's search: every word of the query must start a word of the product's name or SKU.
/// MySQL answers it from the FULLTEXT index on (Name, Sku), where <c>LIKE '%q%'</c> read every row;
/// the price is that "estrel" no longer finds "Kestrel" (docs/performance.md, "Search").
/// </summary>
public static partial class ProductSearch
{
    /// <summary>InnoDB's <c>innodb_ft_min_token_size</c>: shorter words (the "T" of "T-1000") are not in the index.</summary>
    private const int ShortestIndexedWord = 3;

    public static IQueryable<Product> Matching(this IQueryable<Product> products, string q)
    {
        // Only letters and digits reach the boolean-mode pattern: its operators (+ - " * ( ) ~ < > @) are the server's, not the shopper's.
        var words = Word().Matches(q).Select(m => m.Value).ToList();
        // A short word could only match longer words it starts; alone it still does, beside others it only narrows wrongly.
        if (words.Any(w => w.Length >= ShortestIndexedWord))
        {
            words.RemoveAll(w => w.Length < ShortestIndexedWord);
        }

        if (words.Count == 0)
        {
            return products.Where(_ => false);
        }

        // A prefix term is never dropped as a stop word.
        var pattern = string.Join(' ', words.Select(w => $"+{w}*"));
        return products.Where(p => EF.Functions.IsMatch(new[] { p.Name, p.Sku }, pattern, MySqlMatchSearchMode.Boolean));
    }

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex Word();
}
