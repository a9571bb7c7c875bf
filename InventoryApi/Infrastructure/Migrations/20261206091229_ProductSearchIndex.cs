using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reference.InventoryApi.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class ProductSearchIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "FT_Products_Name_Sku",
                table: "Products",
                columns: new[] { "Name", "Sku" })
                .Annotation("MySql:FullTextIndex", true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "FT_Products_Name_Sku",
                table: "Products");
        }
    }
}
