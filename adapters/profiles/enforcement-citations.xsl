<?xml version="1.0" encoding="UTF-8"?>
<!--
  Profile: an enforcement back office that takes citations
  (operation SubmitCitation, namespace urn:example:enforcement:v1).
  Input: a parkgate Citation. Output: the SubmitCitation request element.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:pg="urn:parkgate:v1"
    xmlns:enf="urn:example:enforcement:v1"
    exclude-result-prefixes="pg">
  <xsl:output method="xml" indent="no"/>

  <xsl:template match="/pg:Citation">
    <enf:SubmitCitation>
      <enf:Citation>
        <enf:Reference><xsl:value-of select="pg:CitationID"/></enf:Reference>
        <enf:Plate><xsl:value-of select="pg:LicensePlate"/></enf:Plate>
        <enf:Violation><xsl:value-of select="pg:ViolationType"/></enf:Violation>
        <enf:Fine><xsl:value-of select="pg:Fine"/></enf:Fine>
        <enf:Currency><xsl:value-of select="pg:Fine/@currency"/></enf:Currency>
        <enf:IssuedAt><xsl:value-of select="pg:IssuedDate"/></enf:IssuedAt>
        <enf:DueDate><xsl:value-of select="pg:DueDate"/></enf:DueDate>
        <xsl:if test="pg:Location">
          <enf:Location><xsl:value-of select="pg:Location"/></enf:Location>
        </xsl:if>
      </enf:Citation>
    </enf:SubmitCitation>
  </xsl:template>
</xsl:stylesheet>
