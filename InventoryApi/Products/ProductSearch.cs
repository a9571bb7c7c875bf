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
        if (words.Count == 0)
        {
            return products.Where(_ => false);
        }

        // Words shorter than the index's tokens ("3" of "Lantern 3") cannot be looked up in it: the indexed words
        // narrow the rows and each short word must then start a word of the name or SKU. Only a query of short
        // words alone goes to the index as prefixes, which find the longer words they start.
        var indexed = words.Where(w => w.Length >= ShortestIndexedWord).ToList();
        var matched = products.Where(Matches(indexed.Count > 0 ? indexed : words));
        foreach (var word in indexed.Count > 0 ? words.Where(w => w.Length < ShortestIndexedWord) : [])
        {
            var spaced = " " + word;
            var dashed = "-" + word;
            matched = matched.Where(p => p.Name.StartsWith(word) || p.Name.Contains(spaced) || p.Sku.StartsWith(word) || p.Sku.Contains(dashed));
        }

        return matched;
    }

    private static System.Linq.Expressions.Expression<Func<Product, bool>> Matches(IEnumerable<string> words)
    {
        // A prefix term is never dropped as a stop word.
        var pattern = string.Join(' ', words.Select(w => $"+{w}*"));
        return p => EF.Functions.IsMatch(new[] { p.Name, p.Sku }, pattern, MySqlMatchSearchMode.Boolean);
    }

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex Word();
}
