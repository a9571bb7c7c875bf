using Reference.InventoryApi.Caching;
using System.Text.RegularExpressions;
using Reference.InventoryApi.Infrastructure.EntityConfigurations;

namespace Reference.InventoryApi.Apis;

/// <summary>Body of POST /products; <see cref="Stock"/> is the initial on-hand quantity.</summary>
public sealed record CreateProductRequest(
    string? Sku, string? Name, string? Description, string? Category, decimal? Price, string? Currency, int? Stock)
{
    public Dictionary<string, string[]> Validate()
    {
        var errors = ProductFields.Validate(Sku, Name, Description, Category, Price, Currency);
        if (Stock is < 0 or > ProductFields.MaxQuantity)
        {
            errors["stock"] = [$"Must be between 0 and {ProductFields.MaxQuantity}."];
        }

        return errors;
    }
}

/// <summary>Body of PUT /products/{id}: every field, replacing the old ones. Stock changes go through /stock.</summary>
public sealed record UpdateProductRequest(
    string? Sku, string? Name, string? Description, string? Category, decimal? Price, string? Currency)
{
    public Dictionary<string, string[]> Validate() => ProductFields.Validate(Sku, Name, Description, Category, Price, Currency);
}

/// <summary>Body of POST /products/{id}/stock: added to on-hand (negative to remove).</summary>
public sealed record AdjustStockRequest(int? Delta)
{
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (Delta is null or 0 or < -ProductFields.MaxQuantity or > ProductFields.MaxQuantity)
        {
            errors["delta"] = [$"Must be a non-zero whole number between -{ProductFields.MaxQuantity} and {ProductFields.MaxQuantity}."];
        }

        return errors;
    }
}

internal static partial class ProductFields
{
    public const int MaxQuantity = 1_000_000;
    public const decimal MaxPrice = 1_000_000_000m;

    public static Dictionary<string, string[]> Validate(
        string? sku, string? name, string? description, string? category, decimal? price, string? currency)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(sku) || sku.Length > ProductConfiguration.SkuLength || !SkuPattern().IsMatch(sku))
        {
            errors["sku"] = [$"Required: up to {ProductConfiguration.SkuLength} letters, digits, '.', '_' or '-', starting with a letter or digit."];
        }

        Require(errors, "name", name, ProductConfiguration.NameLength);
        Require(errors, "category", category, ProductConfiguration.CategoryLength);
        if (description is { Length: > ProductConfiguration.DescriptionLength })
        {
            errors["description"] = [$"At most {ProductConfiguration.DescriptionLength} characters."];
        }

        if (price is null or < 0 or > MaxPrice || decimal.Round(price.Value, 4) != price.Value)
        {
            errors["price"] = [$"Required: between 0 and {MaxPrice}, at most 4 decimal places."];
        }

        if (currency is null || !CurrencyPattern().IsMatch(currency))
        {
            errors["currency"] = ["Required: an ISO 4217 code in capitals, e.g. EUR."];
        }

        return errors;
    }

    private static void Require(Dictionary<string, string[]> errors, string field, string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > maxLength)
        {
            errors[field] = [$"Required: 1 to {maxLength} characters."];
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex SkuPattern();

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyPattern();
}

/// <summary>The query of GET /products.</summary>
public static class ProductListQuery
{
    public const int DefaultPageSize = 24;
    public const int MaxPageSize = 100;
    private const int MinQueryLength = 2;
    private const int MaxQueryLength = 100;

    public static Dictionary<string, string[]> Validate(int? page, int? pageSize, string? category, string? q)
    {
        var errors = new Dictionary<string, string[]>();
        if (page is < 1 or > 100_000)
        {
            errors["page"] = ["Must be between 1 and 100000."];
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"Must be between 1 and {MaxPageSize}."];
        }

        if (ProductListKey.Normalise(q) is { Length: < MinQueryLength or > MaxQueryLength })
        {
            errors["q"] = [$"Between {MinQueryLength} and {MaxQueryLength} characters."];
        }

        if (category is { Length: > MaxQueryLength })
        {
            errors["category"] = [$"At most {MaxQueryLength} characters."];
        }

        return errors;
    }
}
